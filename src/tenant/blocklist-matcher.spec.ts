import { BlocklistMatcher, normalizeForMatching } from './blocklist-matcher';

describe('BlocklistMatcher', () => {
  const matcher = new BlocklistMatcher(['Forbidden Word', '违禁', 'ｶﾀｶﾅ', 'spam']);

  it('matches whatever the case or the width, in Latin and CJK text', () => {
    expect(matcher.matchesAny(['this has a FORBIDDEN word in it'])).toBe(true);
    expect(matcher.matchesAny(['ｆｏｒｂｉｄｄｅｎ　ｗｏｒｄ'])).toBe(true);
    expect(matcher.matchesAny(['这是违禁内容'])).toBe(true);
    expect(matcher.matchesAny(['全角のカタカナです'])).toBe(true);
    expect(matcher.matchesAny(['SPAM'])).toBe(true);
  });

  it('finds nothing in clean texts, and looks at every text given', () => {
    expect(matcher.matchesAny(['forbidden', 'word', '违', '禁'])).toBe(false);
    expect(matcher.matchesAny(['clean', 'also clean', 'spam at the end'])).toBe(true);
    expect(matcher.matchesAny([])).toBe(false);
  });

  it('normalises width and case the same way for terms and texts', () => {
    expect(normalizeForMatching('ＡＢＣ１２３')).toBe('abc123');
    expect(() => new BlocklistMatcher(['', ''])).toThrow('at least one');
  });
});
