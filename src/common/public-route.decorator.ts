import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'qwen3guard:public-route';

/** Marks a controller or handler that answers without an API key (probes, metrics). Every other route needs one. */
export const PublicRoute = (): ClassDecorator & MethodDecorator => SetMetadata(PUBLIC_ROUTE, true);
