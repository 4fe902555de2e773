/** Streamed answers and random chunkings for the moderation-stream suites. */

/** Answers whose chunk boundaries fall inside words, CJK runs, emoji (surrogate pairs, ZWJ sequences) and whitespace runs. */
export const STREAMED_ANSWERS = [
  'Certainly! Here is an overview of photosynthesis: plants convert sunlight, water and CO2 into glucose.',
  '当然可以。这是一个关于天气的回答：今天晴朗，气温二十五度，适合出门散步。',
  'Great idea 👍🏽! Family: 👨‍👩‍👧‍👦, flags 🇫🇷🇯🇵, and a kiss 😘😘😘 — done.',
  'internationalization   and\n\n\nlocalization……!!!???   multi-line\r\n  text\twith\ttabs    ',
  'Sure, mixing 日本語のテキスト with English words and 数字 12345678901234567890 and ====== rules.',
];

/** A seeded generator (mulberry32), so a failing chunking can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `text` cut at random UTF-16 positions (inside surrogate pairs too) into chunks of 1 to `longest` code units. */
export function randomChunks(text: string, random: () => number, longest = 12): string[] {
  const chunks: string[] = [];
  for (let at = 0; at < text.length;) {
    const size = 1 + Math.floor(random() * longest);
    chunks.push(text.slice(at, at + size));
    at += size;
  }
  return chunks;
}
