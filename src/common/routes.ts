/**
 * The service's route paths, written once: the controllers mount them, the moderation service meters usage
 * under them, and live stats picks the moderation calls out of the request metrics by them.
 */
export const ROUTES = {
  predict: '/predict',
  moderate: '/v1/moderate',
  moderations: '/v1/moderations',
  streams: '/v1/streams',
  /** The WebSocket way into streams (src/streaming/stream-socket.ts). */
  streamSocket: '/v1/streams/ws',
  usage: '/v1/usage',
  stats: '/v1/stats',
  health: '/health',
} as const;

/** The routes of moderation calls. */
export const MODERATION_ROUTES = [ROUTES.predict, ROUTES.moderate, ROUTES.moderations] as const;
export type ModerationRoute = (typeof MODERATION_ROUTES)[number];
