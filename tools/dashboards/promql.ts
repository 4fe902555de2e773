/**
 * A small PromQL scanner that lists the metric names an expression selects. It is not a full parser: it
 * knows enough of the grammar (strings, label matchers, ranges, function calls, grouping clauses, keywords,
 * numbers and durations, Grafana's `$variables`) to tell a metric name from everything else, which is what
 * the monitoring tests need to check rules and dashboards against src/metrics/metric-names.ts.
 */

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
  // aggregation operators (also followed by "(" or by a grouping clause)
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);

/** Clauses whose parenthesised argument is a list of label names, not an expression. */
const LABEL_LIST_CLAUSES = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

type Token = { kind: 'ident'; value: string } | { kind: 'punct'; value: string } | { kind: 'selectorName'; value: string };

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = expr.length;
  while (i < n) {
    const c = expr[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      // comment to end of line
      while (i < n && expr[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      // string literal (escapes only in "" and '')
      i++;
      while (i < n && expr[i] !== c) i += c !== '`' && expr[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '{') {
      // label matchers: a `__name__="x"` matcher names a metric; nothing else inside is a metric name
      const end = findClosing(expr, i, '{', '}');
      const body = expr.slice(i + 1, end);
      const nameMatch = /__name__\s*=\s*"([^"]*)"/.exec(body);
      if (nameMatch) tokens.push({ kind: 'selectorName', value: nameMatch[1] });
      tokens.push({ kind: 'punct', value: '}' });
      i = end + 1;
    } else if (c === '[') {
      // range or subquery duration
      i = findClosing(expr, i, '[', ']') + 1;
    } else if (c === '$') {
      // Grafana variable: $name, ${name}, ${name:format}, $__rate_interval, [[name]] is not used here
      i++;
      if (expr[i] === '{') i = findClosing(expr, i, '{', '}') + 1;
      else while (i < n && /[A-Za-z0-9_]/.test(expr[i])) i++;
    } else if (/[0-9.]/.test(c)) {
      // number (decimal, hex, exponent) or duration such as 5m, 1h30m
      i++;
      while (i < n && /[0-9A-Za-z_.]/.test(expr[i])) {
        if ((expr[i] === 'e' || expr[i] === 'E') && (expr[i + 1] === '+' || expr[i + 1] === '-')) i += 2;
        else i++;
      }
    } else if (/[A-Za-z_:]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_:]/.test(expr[j])) j++;
      tokens.push({ kind: 'ident', value: expr.slice(i, j) });
      i = j;
    } else {
      tokens.push({ kind: 'punct', value: c });
      i++;
    }
  }
  return tokens;
}

function findClosing(expr: string, start: number, open: string, close: string): number {
  let depth = 0;
  for (let i = start; i < expr.length; i++) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < expr.length && expr[i] !== c) i += c !== '`' && expr[i] === '\\' ? 2 : 1;
    } else if (c === open) depth++;
    else if (c === close && --depth === 0) return i;
  }
  throw new Error(`Unbalanced ${open}${close} in PromQL: ${expr}`);
}

/** The distinct metric names an expression selects, in order of first appearance. */
export function metricNamesInPromQL(expr: string): string[] {
  const tokens = tokenize(expr);
  const names: string[] = [];
  const add = (name: string) => {
    if (!names.includes(name)) names.push(name);
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind === 'selectorName') {
      add(t.value);
      continue;
    }
    if (t.kind !== 'ident') continue;
    const next = tokens[k + 1];
    if (LABEL_LIST_CLAUSES.has(t.value) && next?.kind === 'punct' && next.value === '(') {
      // skip the label list
      while (k < tokens.length && !(tokens[k].kind === 'punct' && tokens[k].value === ')')) k++;
      continue;
    }
    if (KEYWORDS.has(t.value)) continue;
    if (next?.kind === 'punct' && next.value === '(') continue; // function call
    add(t.value);
  }
  return names;
}
