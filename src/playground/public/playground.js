'use strict';

// The playground talks to the API it is served by, with relative URLs (so it also works behind a path
// prefix). Everything shown is built with text nodes: nothing from a response or the form is parsed as HTML.
(() => {
  const LEVELS = ['safe', 'controversial', 'unsafe'];
  const LEVEL_NAMES = { safe: 'Safe', controversial: 'Controversial', unsafe: 'Unsafe' };
  const HISTORY_SIZE = 10;
  const STATS_INTERVAL_MS = 5000;
  const RESPONSE_HINTS = {
    check: 'When filled, the reply is judged (in answer to the message above), including whether it refuses.',
    stream: 'The answer to play, word by word: each check judges it so far, in answer to the message above.',
  };

  const byId = (id) => document.getElementById(id);
  const form = byId('moderate-form');
  const promptBox = byId('prompt');
  const responseBox = byId('response');
  const apiKeyBox = byId('api-key');
  const button = byId('moderate-button');
  const stopButton = byId('stop-button');
  const streamOptions = byId('stream-options');
  const resultBox = byId('result');
  const historyList = byId('history');
  const historyEmpty = byId('history-empty');
  const liveStatus = byId('live-status');

  /** The last checks, newest first; kept in this page only. */
  const history = [];
  let statsPending = false;
  /** The stream being played, if any: `stopped` is set by the Stop button. */
  let playing = null;

  /** An element with properties and children (strings become text nodes). */
  function el(tag, properties = {}, children = []) {
    const element = Object.assign(document.createElement(tag), properties);
    element.append(...[].concat(children));
    return element;
  }

  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      const detail = body && body.code ? `${body.code}: ${body.message}` : 'the service answered without details';
      super(`${status} ${detail}${retryAfter ? ` (retry after ${retryAfter} s)` : ''}`);
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
    if (!response.ok) throw new ApiError(response.status, body, response.headers.get('retry-after'));
    return body;
  }

  function describeFailure(error) {
    return error instanceof ApiError ? error.message : `the service did not answer (${error.message})`;
  }

  // --- Moderation -----------------------------------------------------------------------------------

  function mode() {
    return form.elements.mode.value;
  }

  function submit(event) {
    event.preventDefault();
    if (button.disabled) return; // a check is running (Ctrl+Enter does not look at the button)
    if (!promptBox.value.trim()) {
      showError('Write a user message to check.');
      promptBox.focus();
      return;
    }
    if (mode() === 'stream') play();
    else moderate();
  }

  async function moderate() {
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

  function showMode() {
    const streaming = mode() === 'stream';
    streamOptions.hidden = !streaming;
    byId('response-optional').hidden = streaming;
    byId('response-hint').textContent = RESPONSE_HINTS[mode()];
    button.textContent = streaming ? 'Play' : 'Moderate';
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
  // The HTTP routes, not the WebSocket: a browser cannot put the API key in a WebSocket's headers, and
  // fetch already carries it like every other call of this page. The text goes in request bodies only.

  /** The answer in word-sized pieces, as an LLM streams it: spaces lead a word, punctuation follows it. */
  function piecesOf(text) {
    const pieces = [];
    let piece = '';
    let hasWord = false;
    for (const { segment, isWordLike } of new Intl.Segmenter(undefined, { granularity: 'word' }).segment(text)) {
      const startsPiece = isWordLike ? hasWord : /^\s+$/u.test(segment) && hasWord;
      if (startsPiece) {
        pieces.push(piece);
        piece = '';
        hasWord = false;
      }
      piece += segment;
      hasWord ||= isWordLike;
    }
    if (piece) pieces.push(piece);
    return pieces;
  }

  const count = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function play() {
    const answer = responseBox.value;
    if (!answer.trim()) {
      showError('Write an assistant response to stream.');
      responseBox.focus();
      return;
    }
    const pieces = piecesOf(answer);
    const checkEvery = Number(byId('check-every').value);
    const paceMs = Math.max(0, Number(byId('pace').value) || 0);
    const view = streamView(pieces.length);
    const stream = { id: null, closed: false, stopped: false };
    playing = stream;
    setPlaying(true);
    try {
      let state = await callApi('v1/streams', {
        method: 'POST',
        body: JSON.stringify({ prompt: promptBox.value, check_every_tokens: checkEvery, close_on_unsafe: byId('close-on-unsafe').checked }),
      });
      stream.id = state.id;
      view.model(state.model);
      for (const [index, piece] of pieces.entries()) {
        if (stream.stopped) break;
        const last = index === pieces.length - 1;
        state = await callApi(`v1/streams/${encodeURIComponent(stream.id)}/chunks`, { method: 'POST', body: JSON.stringify({ text: piece, check: last }) });
        view.update({ state, played: index + 1, answer });
        if (state.closed) {
          stream.closed = true;
          view.status(`The service closed the stream at the first Unsafe verdict (${index + 1} of ${pieces.length} pieces played).`);
          break;
        }
        if (!last) await pause(paceMs);
      }
      if (stream.stopped) view.status(`Stopped after ${view.played()} of ${pieces.length} pieces.`);
      else if (!stream.closed) view.status(`Played all ${pieces.length} pieces.`);
    } catch (error) {
      view.error(`The stream failed: ${describeFailure(error)}`);
    } finally {
      await closeStream(stream, view);
      playing = null;
      setPlaying(false);
      refreshStats();
    }
  }

  /** Frees what the stream holds on the service, unless it is closed already. */
  async function closeStream(stream, view) {
    if (!stream.id || stream.closed) return;
    try {
      await callApi(`v1/streams/${encodeURIComponent(stream.id)}`, { method: 'DELETE' });
      stream.closed = true;
    } catch (error) {
      view.error(`Closing the stream failed: ${describeFailure(error)}`);
    }
  }

  function setPlaying(busy) {
    button.disabled = busy;
    button.textContent = busy ? 'Playing…' : 'Play';
    stopButton.hidden = !busy;
    resultBox.setAttribute('aria-busy', String(busy));
    for (const radio of form.elements.mode) radio.disabled = busy;
  }

  /** The result panel of a stream, updated in place as verdicts arrive. */
  function streamView(pieceCount) {
    const verdictBadge = el('span', { className: 'verdict level-none', id: 'verdict' }, 'Not checked yet');
    const progress = el('span', { id: 'stream-progress', className: 'hint' }, `0 of ${pieceCount} pieces played`);
    const answerBox = el('p', { id: 'streamed-answer', className: 'streamed-answer' });
    const values = {
      firstFlag: el('span', { id: 'stream-first-flag' }, 'Not yet'),
      checks: el('span', { id: 'stream-checks-count' }, '0'),
      tokens: el('span', {}, '–'),
      model: el('span', {}, '–'),
    };
    const checkList = el('ol', { id: 'stream-checks', className: 'stream-checks' });
    const statusLine = el('p', { id: 'stream-status', className: 'hint' });
    const errors = el('div', { id: 'stream-errors' });
    let playedCount = 0;
    let reused = 0;
    let computed = 0;
    resultBox.replaceChildren(
      el('p', { className: 'stream-head' }, [verdictBadge, progress]),
      answerBox,
      facts([
        ['First flagged', values.firstFlag],
        ['Checks', values.checks],
        ['Tokens', values.tokens],
        ['Model', values.model],
      ]),
      el('h3', {}, 'Checks'),
      checkList,
      statusLine,
      errors,
    );
    return {
      played: () => playedCount,
      model: (model) => (values.model.textContent = model),
      update({ state, played, answer }) {
        playedCount = played;
        progress.textContent = `${played} of ${pieceCount} pieces played (${count(state.answer_chars, 'character')}, ${count(state.answer_tokens, 'token')})`;
        showPlayed(answerBox, answer.slice(0, state.answer_chars), state.first_flag);
        values.checks.textContent = String(state.checks);
        values.firstFlag.textContent = state.first_flag
          ? `${LEVEL_NAMES[state.first_flag.safety_level]} at check ${state.first_flag.check}, after ${state.first_flag.answer_chars} characters`
          : 'Not yet';
        const check = state.check;
        if (!check) return;
        const level = check.result.safety_level;
        verdictBadge.className = `verdict level-${level}`;
        verdictBadge.textContent = LEVEL_NAMES[level];
        reused += check.reused_tokens;
        computed += check.computed_tokens;
        values.tokens.textContent = `${computed} computed, ${reused} reused from the stream's cache`;
        const categories = check.result.categories.length > 0 ? `: ${check.result.categories.join(', ')}` : '';
        checkList.append(
          el('li', {}, [
            el('span', { className: `badge level-${level}` }, LEVEL_NAMES[level]),
            ` check ${check.check}, ${check.answer_chars} characters${categories}`,
          ]),
        );
      },
      status: (message) => (statusLine.textContent = message),
      error: (message) => errors.append(el('p', { className: 'error' }, message)),
    };
  }

  /** The answer played so far, with a mark where the verdict first turned. */
  function showPlayed(target, text, firstFlag) {
    if (!firstFlag) return target.replaceChildren(text);
    const at = firstFlag.answer_chars;
    const mark = el('mark', { className: `flag level-${firstFlag.safety_level}`, title: `first ${LEVEL_NAMES[firstFlag.safety_level]} verdict here` }, '⚑');
    target.replaceChildren(text.slice(0, at), mark, text.slice(at));
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
      if (playing) return;
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

  form.addEventListener('submit', submit);
  form.addEventListener('change', (event) => event.target.name === 'mode' && showMode());
  stopButton.addEventListener('click', () => {
    if (playing) playing.stopped = true;
  });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  showMode(); // a reloaded page may keep the streaming choice
  document.addEventListener('visibilitychange', refreshStats);
  setInterval(refreshStats, STATS_INTERVAL_MS);
  refreshStats();
})();
