import { Writable } from 'node:stream';
import { loadAppConfig } from '../../config/load-app-config';
import { createAppLogger, pinoLevelFor } from './app-logger';

function loggerAt(level: string): { logger: ReturnType<typeof createAppLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createAppLogger(loadAppConfig({ LOG_LEVEL: level }), destination), lines };
}

describe('createAppLogger', () => {
  it('translates Nest level names and keeps pino names as they are', () => {
    expect(pinoLevelFor('log')).toBe('info');
    expect(pinoLevelFor('verbose')).toBe('trace');
    expect(pinoLevelFor('info')).toBe('info');
    expect(pinoLevelFor('trace')).toBe('trace');
    expect(pinoLevelFor('silent')).toBe('silent');
  });

  it('logs at LOG_LEVEL=info and above, and nothing with LOG_LEVEL=silent', () => {
    const info = loggerAt('info');
    info.logger.debug('hidden');
    info.logger.info('shown');
    expect(info.lines.map((line) => JSON.parse(line) as { level: string; msg: string })).toEqual([expect.objectContaining({ level: 'info', msg: 'shown' })]);
    const silent = loggerAt('silent');
    silent.logger.fatal('hidden too');
    expect(silent.lines).toEqual([]);
  });
});
