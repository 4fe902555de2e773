import { mostSevereLevel } from './request-verdict';

describe('mostSevereLevel', () => {
  it.each([
    [{ safety_level: 'safe' }, 'safe'],
    [{ safety_level: 'unsafe', categories: ['Violent'] }, 'unsafe'],
    [{ results: [{ safety_level: 'safe' }, { safety_level: 'controversial' }] }, 'controversial'],
    [{ results: [{ safety_level: 'unsafe' }, { safety_level: 'controversial' }, { safety_level: 'safe' }] }, 'unsafe'],
  ])('reads %j as %s', (body, level) => {
    expect(mostSevereLevel(body)).toBe(level);
  });

  it.each([undefined, null, 'safe', { status: 'ok' }, { results: [] }, { results: [null, {}] }, { safety_level: 'fine' }])('finds no verdict in %j', (body) => {
    expect(mostSevereLevel(body)).toBeUndefined();
  });
});
