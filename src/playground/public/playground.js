'use strict';

// The playground talks to the API it is served by, with relative URLs (so it also works behind a path
// prefix). Everything shown is built with text nodes: nothing from a response or the form is parsed as HTML.
(() => {
  const LEVELS = ['safe', 'controversial', 'unsafe'];
  const LEVEL_NAMES = { safe: 'Safe', controversial: 'Controversial', unsafe: 'Unsafe' };
  const HISTORY_SIZE = 10;
  const STATS_INTERVAL_MS = 5000;

  const byId = (id) => document.getElementById(id);
  const form = byId('moderate-form');
  const promptBox = byId('prompt');
  const responseBox = byId('response');
  const apiKeyBox = byId('api-key');
  const button = byId('moderate-button');
  const resultBox = byId('result');
  const historyList = byId('history');
  const historyEmpty = byId('history-empty');
  const liveStatus = byId('live-status');

  /** The last checks, newest first; kept in this page only. */
  const history = [];
  let statsPending = false;

  /** An element with properties and children (strings become text nodes). */
  function el(tag, properties = {}, children = []) {
    const element = Object.assign(document.createElement(tag), properties);
    element.append(...[].concat(children));
    return element;
  }

  class ApiError extends Error {
    constructor(status, body) {
      const detail = body && body.code ? `${body.code}: ${body.message}` : 'the service answered without details';
      super(`${status} ${detail}`);
    }
  }

  function requestHeaders(withBody) {
    const headers = { accept: 'application/json' };
    if (withBody) headers['content-type'] = 'application/json';
    const key = apiKeyBox.value.trim();
    if (key) headers.authorization = `Bearer ${key}`;
    return headers;
  }

  async function callApi(path, init) {
    const response = await fetch(path, { ...init, headers: requestHeaders(init.body !== undefined) });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  function describeFailure(error) {
    return error instanceof ApiError ? error.message : `the service did not answer (${error.message})`;
  }

  // --- Moderation -----------------------------------------------------------------------------------

  async function moderate(event) {
    event.preventDefault();
    if (button.disabled) return; // a check is running (Ctrl+Enter does not look at the button)
    if (!promptBox.value.trim()) {
      showError('Write a user message to check.');
      promptBox.focus();
      return;
    }
    const request = { prompt: promptBox.value };
    if (responseBox.value.trim()) request.response = responseBox.value;
    setBusy(true);
    const started = performance.now();
    try {
      const result = await callApi('v1/moderate', { method: 'POST', body: JSON.stringify(request) });
      const check = { request, result, roundTripMs: performance.now() - started, at: new Date() };
      showResult(check);
      remember(check);
    } catch (error) {
      showError(`The check failed: ${describeFailure(error)}`);
    } finally {
      setBusy(false);
      refreshStats();
    }
  }

  function setBusy(busy) {
    button.disabled = busy;
    button.textContent = busy ? 'Checking…' : 'Moderate';
    resultBox.setAttribute('aria-busy', String(busy));
  }

  function showError(message) {
    resultBox.replaceChildren(el('p', { className: 'error' }, message));
  }

  function showResult({ request, result, roundTripMs }) {
    const level = result.safety_level;
    resultBox.replaceChildren(
      el('p', {}, el('span', { className: `verdict level-${level}`, id: 'verdict' }, LEVEL_NAMES[level])),
      facts([
        ['Judged', request.response === undefined ? 'the user message' : 'the assistant response'],
        ['Categories', result.categories.length > 0 ? result.categories.join(', ') : 'None'],
        ['Refusal', result.refusal === null ? 'not judged for a message' : result.refusal ? 'Yes' : 'No'],
        ['Model', result.model],
        ['Latency', `${Math.round(roundTripMs)} ms round trip (model ${Math.round(result.timing_ms.total)} ms)`],
      ]),
      el('h3', {}, 'Probabilities'),
      probabilityBars(result.probabilities),
    );
  }

  function facts(rows) {
    return el(
      'dl',
      { className: 'facts' },
      rows.flatMap(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]),
    );
  }

  function probabilityBars(probabilities) {
    return el(
      'ul',
      { className: 'bars' },
      LEVELS.map((level) => {
        const percent = probabilities[level] * 100;
        const fill = el('div', { className: `bar-fill level-${level}` });
        fill.style.width = `${percent}%`;
        return el('li', {}, [
          el('span', {}, LEVEL_NAMES[level]),
          el('div', { className: 'bar-track' }, fill),
          el('span', { className: 'value' }, `${percent.toFixed(1)}%`),
        ]);
      }),
    );
  }

  // --- Streaming ------------------------------------------------------------------------------------

  /** Pause between two pieces of a played answer: slow enough to watch the verdict change. */
  const STREAM_PIECE_DELAY_MS = 120;
  /** A check every this many answer tokens (the service also checks at sentence ends): often, so changes show. */
  const STREAM_CHECK_EVERY_TOKENS = 8;

  const streamButton = byId('stream-button');
  const streamStop = byId('stream-stop');
  const streamStatus = byId('stream-status');
  const streamVerdict = byId('stream-verdict');
  const streamFirstFlag = byId('stream-first-flag');
  const streamAnswer = byId('stream-answer');
  const streamChecks = byId('stream-checks');

  /** The stream being played: its id once opened, and whether Stop was pressed. */
  let playing = null;

  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** The answer cut where an LLM's tokens could arrive: each word with the spaces after it (nothing lost). */
  function answerPieces(answer) {
    return answer.match(/\S+\s*|\s+/g) ?? [];
  }

  async function playStream() {
    if (playing) return;
    if (!promptBox.value.trim() || !responseBox.value.trim()) {
      showStreamStatus('Write a user message and the assistant response to stream.', 'error');
      return;
    }
    const run = { id: null, stopped: false, answer: '', whole: responseBox.value, checkChars: [0] };
    playing = run;
    setStreaming(true);
    resetStreamView();
    try {
      const opened = await callApi('v1/streams', {
        method: 'POST',
        body: JSON.stringify({ prompt: promptBox.value, check_every_tokens: STREAM_CHECK_EVERY_TOKENS }),
      });
      run.id = opened.id;
      const pieces = answerPieces(run.whole);
      for (const [index, piece] of pieces.entries()) {
        if (run.stopped) break;
        const last = index === pieces.length - 1;
        // The last piece asks for a check, so the final verdict covers the whole answer.
        const state = await callApi(`v1/streams/${encodeURIComponent(run.id)}/chunks`, {
          method: 'POST',
          body: JSON.stringify({ text: piece, check: last }),
        });
        run.answer += piece;
        showStreamState(run, state);
        if (!last) await pause(STREAM_PIECE_DELAY_MS);
      }
    } catch (error) {
      showStreamStatus(`The stream failed: ${describeFailure(error)}`, 'error');
    } finally {
      // Close it on the service; one it already closed (idle timeout) answers 404, which changes nothing here.
      if (run.id) await callApi(`v1/streams/${encodeURIComponent(run.id)}`, { method: 'DELETE' }).catch(() => undefined);
      playing = null;
      setStreaming(false);
      refreshStats();
    }
  }

  function setStreaming(active) {
    streamButton.disabled = active;
    streamStop.hidden = !active;
    streamAnswer.setAttribute('aria-busy', String(active));
  }

  function resetStreamView() {
    showStreamStatus('Opening a stream…');
    streamVerdict.hidden = true;
    streamFirstFlag.hidden = true;
    streamAnswer.hidden = false;
    streamAnswer.replaceChildren();
    streamChecks.replaceChildren();
  }

  function showStreamStatus(message, kind = 'hint') {
    streamStatus.className = kind;
    streamStatus.textContent = message;
  }

  function showStreamState(run, state) {
    if (state.check) {
      run.checkChars[state.check.check] = state.check.answer_chars;
      showStreamCheck(state.check);
    }
    showStreamAnswer(run, state.first_flag);
    if (state.first_flag) {
      const { check, answer_chars: chars, safety_level: level } = state.first_flag;
      streamFirstFlag.textContent = `First flagged ${LEVEL_NAMES[level]} at check ${check}, after ${chars} characters of the answer.`;
      streamFirstFlag.hidden = false;
    }
    const done = run.answer === run.whole || run.stopped;
    const progress = `${state.answer_tokens} answer tokens, ${state.checks} checks`;
    showStreamStatus(done ? `Done: ${progress}.` : `Streaming… ${progress}`);
  }

  function showStreamCheck(check) {
    const level = check.result.safety_level;
    streamVerdict.className = `verdict level-${level}`;
    streamVerdict.textContent = LEVEL_NAMES[level];
    streamVerdict.hidden = false;
    const categories = check.result.categories.length > 0 ? ` (${check.result.categories.join(', ')})` : '';
    streamChecks.append(
      el('li', {}, [
        el('span', { className: `badge level-${level}` }, LEVEL_NAMES[level]),
        `${categories} after ${check.answer_chars} characters; ${check.computed_tokens} tokens computed, ${check.reused_tokens} reused`,
      ]),
    );
    streamChecks.lastElementChild.scrollIntoView({ block: 'nearest' });
  }

  /** The answer so far, with the text that first turned the verdict (since the check before) marked. */
  function showStreamAnswer(run, firstFlag) {
    if (!firstFlag) {
      streamAnswer.textContent = run.answer;
      return;
    }
    const from = run.checkChars[firstFlag.check - 1] ?? 0;
    const to = firstFlag.answer_chars;
    streamAnswer.replaceChildren(
      run.answer.slice(0, from),
      el('mark', { className: 'flagged', title: 'The text that turned the verdict' }, run.answer.slice(from, to)),
      run.answer.slice(to),
    );
  }

  // --- History --------------------------------------------------------------------------------------

  function remember(check) {
    history.unshift(check);
    history.length = Math.min(history.length, HISTORY_SIZE);
    historyEmpty.hidden = true;
    historyList.replaceChildren(...history.map(historyItem));
  }

  function historyItem(check) {
    const level = check.result.safety_level;
    const item = el('button', { type: 'button' }, [
      el('span', { className: `badge level-${level}` }, LEVEL_NAMES[level]),
      el('span', { className: 'snippet' }, check.request.response ?? check.request.prompt),
      el('span', { className: 'meta' }, `${Math.round(check.roundTripMs)} ms · ${check.at.toLocaleTimeString()}`),
    ]);
    item.addEventListener('click', () => {
      promptBox.value = check.request.prompt;
      responseBox.value = check.request.response ?? '';
      showResult(check);
    });
    return el('li', {}, item);
  }

  // --- Live stats -----------------------------------------------------------------------------------

  async function refreshStats() {
    if (document.hidden || statsPending) return;
    statsPending = true;
    try {
      showStats(await callApi('v1/stats', { method: 'GET' }));
      // A status region is announced on every change: say something only when it is news.
      if (liveStatus.textContent !== '') liveStatus.textContent = '';
    } catch (error) {
      liveStatus.textContent = `Live stats unavailable: ${describeFailure(error)}`;
    } finally {
      statsPending = false;
    }
  }

  function showStats(stats) {
    byId('live-rate').textContent = stats.requests_per_second.toFixed(2);
    byId('live-mean').textContent = stats.latency_ms ? `${Math.round(stats.latency_ms.mean)} ms` : '–';
    byId('live-p95').textContent = stats.latency_ms ? `${Math.round(stats.latency_ms.p95)} ms` : '–';
    byId('live-errors').textContent = `${stats.errors} of ${stats.requests}`;
    const total = LEVELS.reduce((sum, level) => sum + stats.verdicts[level], 0);
    const share = (level) => (total > 0 ? (100 * stats.verdicts[level]) / total : 0);
    byId('live-mix').replaceChildren(
      ...LEVELS.map((level) => {
        const part = el('span', { className: `level-${level}` });
        part.style.width = `${share(level)}%`;
        return part;
      }),
    );
    byId('live-mix-legend').replaceChildren(
      ...LEVELS.map((level) =>
        el('li', {}, [
          el('span', { className: `swatch level-${level}` }),
          `${LEVEL_NAMES[level]} ${stats.verdicts[level]} (${Math.round(share(level))}%)`,
        ]),
      ),
    );
  }

  // --- Wiring ---------------------------------------------------------------------------------------

  form.addEventListener('submit', moderate);
  streamButton.addEventListener('click', playStream);
  streamStop.addEventListener('click', () => {
    if (playing) playing.stopped = true;
  });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  document.addEventListener('visibilitychange', refreshStats);
  setInterval(refreshStats, STATS_INTERVAL_MS);
  refreshStats();
})();
