import { ApiProperty } from '@nestjs/swagger';
import { CATEGORY_ACTIONS, CategoryAction } from '../../tenant/tenant';

/** The caller's tenant policy applied to the model's verdict (or to a blocklist hit). */
export class DecisionDto {
  @ApiProperty({ enum: CATEGORY_ACTIONS, example: 'block', description: 'block: refuse the content; flag: let it through, marked; allow: let it through.' })
  action!: CategoryAction;

  @ApiProperty({ example: true, description: 'True unless the action is allow.' })
  flagged!: boolean;

  @ApiProperty({
    enum: ['model', 'blocklist'],
    example: 'model',
    description: "blocklist: a term of the tenant's blocklist matched; when the blocklist short-circuits, the model did not run (probabilities null).",
  })
  source!: 'model' | 'blocklist';
}
