// Nivaran citizen web chat. The conversation (session, cursor, messages) lives in localStorage,
// so a reload continues it. Citizen messages go out one at a time, in order, each with a client
// id that is reused on every retry (the server deduplicates on it); the bot's replies are polled.
// Every text from the server or the citizen is shown with textContent, never as HTML.
// API reference: docs/webchat.md.
'use strict';

(() => {
  const API = '/webchat/api/';
  const STORE_KEY = 'nivaran.webchat.v1';
  const KEEP_ITEMS = 300;
  const POLL_MS = 1500;
  const HIDDEN_POLL_MS = 15000;
  const MAX_BACKOFF_MS = 30000;
  const SEND_ATTEMPTS = 4; // then the message is marked failed and waits for the retry button

  const TEXT = {
    sending: 'भेजा जा रहा है…',
    failed: 'संदेश नहीं भेजा जा सका।',
    retry: 'फिर से भेजें',
    offline: 'सर्वर से संपर्क नहीं हो पा रहा है। हम अपने-आप फिर कोशिश कर रहे हैं…',
    rateLimited: 'अभी बहुत सारे संदेश आ गए हैं। कृपया थोड़ा रुकिए — आपका संदेश कुछ देर में अपने-आप भेज दिया जाएगा।',
    expired: 'आपकी पिछली बातचीत का समय पूरा हो गया था, इसलिए नई बातचीत शुरू की गई है।',
    resetConfirm: 'क्या आप यह बातचीत इस फ़ोन से हटाना चाहते हैं? दर्ज की गई शिकायतें बनी रहेंगी।',
  };

  const $ = (id) => document.getElementById(id);
  const list = $('messages');
  const chat = list.parentElement;
  const welcome = $('welcome');
  const statusLine = $('status');
  const form = $('composer');
  const input = $('text');
  const resetButton = $('reset');

  // items: {kind: 'me'|'bot'|'note', id, text, options?, chosen?, body?, status?}
  let state = load();
  const nodes = new Map(); // item -> its <li>
  let sending = false;
  let pollTimer = null;
  let polling = false;
  let pollAgain = false;
  let pollErrors = 0;

  // ---- storage ----

  function fresh() {
    return { session: null, cursor: '0', items: [] };
  }

  function load() {
    try {
      const s = JSON.parse(localStorage.getItem(STORE_KEY));
      if (s && Array.isArray(s.items)) return s;
    } catch (e) { /* unreadable or unavailable storage: start afresh */ }
    return fresh();
  }

  function save() {
    if (state.items.length > KEEP_ITEMS) state.items = state.items.slice(-KEEP_ITEMS);
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) { /* private mode or full: the conversation still works until a reload */ }
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs https; this does not
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // ---- rendering ----

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function isLast(item) {
    return state.items[state.items.length - 1] === item;
  }

  function build(item) {
    const li = el('li', 'msg ' + item.kind + (item.status === 'failed' ? ' failed' : ''));
    const who = { me: 'आप: ', bot: 'निवारण: ', note: '' }[item.kind];
    const bubble = el('div', 'bubble');
    if (who) bubble.append(el('span', 'visually-hidden', who));
    bubble.append(document.createTextNode(item.text));
    li.append(bubble);

    if (item.kind === 'bot' && item.options && item.options.length) {
      const active = isLast(item) && !item.chosen;
      const group = el('div', 'options');
      group.setAttribute('role', 'group');
      group.setAttribute('aria-label', 'विकल्प');
      for (const option of item.options) {
        const b = el('button', 'option' + (item.chosen === option.id ? ' chosen' : ''), option.title);
        b.type = 'button';
        b.dataset.option = option.id;
        b.disabled = !active;
        b.addEventListener('click', () => choose(item, option));
        group.append(b);
      }
      li.append(group);
    }
    if (item.kind === 'me' && item.status === 'pending') li.append(el('span', 'meta', TEXT.sending));
    if (item.kind === 'me' && item.status === 'failed') {
      li.append(el('span', 'meta', TEXT.failed));
      const r = el('button', 'retry', TEXT.retry);
      r.type = 'button';
      r.addEventListener('click', retryFailed);
      li.append(r);
    }
    return li;
  }

  function show(item) {
    const li = build(item);
    const old = nodes.get(item);
    if (old) old.replaceWith(li);
    else list.append(li);
    nodes.set(item, li);
  }

  function renderAll() {
    list.replaceChildren();
    nodes.clear();
    state.items.forEach(show);
    welcome.hidden = state.items.length > 0;
    resetButton.hidden = state.items.length === 0;
    scrollDown();
  }

  function scrollDown() {
    chat.scrollTop = chat.scrollHeight;
  }

  function setStatus(text) {
    if (statusLine.textContent !== text) statusLine.textContent = text;
  }

  // Appends an item; the previous last message loses its active buttons.
  function add(item) {
    const prev = state.items[state.items.length - 1];
    state.items.push(item);
    while (state.items.length > KEEP_ITEMS) {
      const gone = state.items.shift();
      const li = nodes.get(gone);
      if (li) li.remove();
      nodes.delete(gone);
    }
    if (prev && nodes.has(prev) && prev.options && prev.options.length) show(prev);
    show(item);
    welcome.hidden = true;
    resetButton.hidden = false;
    save();
    scrollDown();
  }

  // ---- sending ----

  function sendText(text) {
    add({ kind: 'me', id: newId(), text, body: { text }, status: 'pending' });
    pump();
  }

  function choose(botItem, option) {
    if (!isLast(botItem) || botItem.chosen) return;
    botItem.chosen = option.id; // add() redraws botItem with its buttons off and this one marked
    add({ kind: 'me', id: newId(), text: option.title, body: { button: option.id }, status: 'pending' });
    pump();
  }

  function retryFailed() {
    for (const item of state.items) {
      if (item.status === 'failed') {
        item.status = 'pending';
        show(item);
      }
    }
    save();
    pump();
  }

  function setItemStatus(item, status) {
    if (!state.items.includes(item)) return; // dropped meanwhile
    item.status = status;
    show(item);
    save();
  }

  function sessionExpired() {
    state.session = null;
    state.cursor = '0';
    add({ kind: 'note', id: newId(), text: TEXT.expired });
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function retryAfterMs(res) {
    const s = parseInt(res.headers.get('Retry-After'), 10);
    return Math.min(120, Math.max(1, Number.isFinite(s) ? s : 15)) * 1000;
  }

  async function post(path, body) {
    return fetch(API + path, {
      method: 'POST',
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : '',
      cache: 'no-store',
    });
  }

  // Outcome of one try: 'sent', 'failed' (do not retry by itself) or a delay in ms before the next
  // try. Throws on network errors and 5xx.
  async function trySend(item, tries) {
    if (!state.session) {
      const res = await post('session');
      if (res.status === 429) return rateLimited(res);
      if (res.status !== 201) throw new Error('session: HTTP ' + res.status);
      const data = await res.json();
      if (typeof data.session !== 'string') throw new Error('session: no id');
      state.session = data.session;
      state.cursor = '0';
      save();
    }
    const res = await post('messages', Object.assign({ session: state.session, id: item.id }, item.body));
    if (res.status === 200) return 'sent';
    if (res.status === 404) {
      if (tries.renewed) return 'failed'; // a fresh session was refused too
      tries.renewed = true;
      sessionExpired();
      return 0;
    }
    if (res.status === 429) return rateLimited(res);
    if (res.status >= 400 && res.status < 500) return 'failed';
    throw new Error('messages: HTTP ' + res.status); // 5xx and 503: retry with the same id
  }

  function rateLimited(res) {
    setStatus(TEXT.rateLimited);
    return retryAfterMs(res);
  }

  // Sends pending messages one at a time, in order. A failure stops the queue until the retry
  // button is pressed, so the bot never sees the citizen's messages out of order.
  async function pump() {
    if (sending) return;
    sending = true;
    try {
      for (;;) {
        const item = state.items.find((i) => i.kind === 'me' && i.status !== 'sent');
        if (!item || item.status === 'failed') break;
        let outcome;
        const tries = { errors: 0, renewed: false };
        for (;;) {
          try {
            outcome = await trySend(item, tries);
          } catch (e) {
            tries.errors++;
            outcome = tries.errors >= SEND_ATTEMPTS ? 'failed' : 1000 * 2 ** (tries.errors - 1);
          }
          if (typeof outcome === 'string') break;
          await sleep(outcome);
        }
        if (outcome === 'failed') {
          for (const i of state.items) if (i.kind === 'me' && i.status === 'pending') setItemStatus(i, 'failed');
          break;
        }
        setStatus('');
        setItemStatus(item, 'sent');
        pollNow();
      }
    } finally {
      sending = false;
    }
  }

  // ---- receiving ----

  function pollNow() {
    schedulePoll(0);
  }

  function schedulePoll(ms) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, ms);
  }

  function addReplies(data) {
    const messages = Array.isArray(data.messages) ? data.messages : [];
    for (const m of messages) {
      // No de-duplication by id: replies committed together share one cursor; `after` is exclusive.
      const id = String(m.id);
      const options = Array.isArray(m.options)
        ? m.options.map((o) => ({ id: String(o.id), title: String(o.title) }))
        : [];
      add({ kind: 'bot', id, text: String(m.text == null ? '' : m.text), options });
    }
    if (data.cursor != null) state.cursor = String(data.cursor);
    else if (messages.length) state.cursor = String(messages[messages.length - 1].id);
    save();
  }

  async function poll() {
    if (!state.session) return; // nothing to fetch before the first message; pump() restarts us
    if (polling) {
      pollAgain = true;
      return;
    }
    polling = true;
    let next = document.hidden ? HIDDEN_POLL_MS : POLL_MS;
    try {
      const session = state.session;
      const q = 'session=' + encodeURIComponent(session) + '&after=' + encodeURIComponent(state.cursor);
      const res = await fetch(API + 'messages?' + q, { cache: 'no-store' });
      if (res.status === 200) {
        const data = await res.json();
        if (session === state.session) addReplies(data);
        pollErrors = 0;
        if (statusLine.textContent === TEXT.offline) setStatus('');
      } else if (res.status === 404) {
        if (session === state.session) sessionExpired(); // the next message sent opens a new one
      } else if (res.status === 429) {
        next = Math.max(next, retryAfterMs(res));
      } else {
        throw new Error('poll: HTTP ' + res.status);
      }
    } catch (e) {
      pollErrors++;
      next = Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** pollErrors);
      if (pollErrors >= 3) setStatus(TEXT.offline);
    } finally {
      polling = false;
    }
    if (pollAgain) {
      pollAgain = false;
      next = 0;
    }
    if (state.session) schedulePoll(next);
  }

  // ---- composer ----

  function submit() {
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    fitInput();
    sendText(text);
  }

  function fitInput() {
    input.style.height = 'auto';
    input.style.height = input.scrollHeight + 'px';
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
    input.focus();
  });

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });

  input.addEventListener('input', fitInput);

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) pollNow();
  });

  resetButton.addEventListener('click', () => {
    if (!state.items.length || !window.confirm(TEXT.resetConfirm)) return;
    state = fresh();
    save();
    location.reload(); // drops any send or poll still in flight
  });

  renderAll();
  pump(); // messages left pending by a reload go out again, with their ids
  pollNow();
})();
