import { SafetyLevel } from '../inference';
import { mostSevereLevel } from './request-context';

describe('mostSevereLevel', () => {
  it.each<[SafetyLevel[], SafetyLevel]>([
    [['safe'], 'safe'],
    [['unsafe'], 'unsafe'],
    [['safe', 'controversial'], 'controversial'],
    [['unsafe', 'controversial', 'safe'], 'unsafe'],
  ])('reads %j as %s', (levels, level) => {
    expect(mostSevereLevel(levels)).toBe(level);
  });

  it('finds no verdict among no levels', () => {
    expect(mostSevereLevel([])).toBeUndefined();
  });
});
