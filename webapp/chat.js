'use strict';

/*
 * The chat page. Wire contract: docs/PROTOCOL.md.
 *
 * Server delivery: every message is rendered once, in offset order. The last rendered offset and the newest
 * messages are kept in sessionStorage, so a refresh shows them at once and asks the server only for what is newer.
 * After any disconnect the page reconnects with backoff and jitter, passing that offset as serverOffset.
 *
 * Client delivery: what the user sends goes into an outbox in localStorage, with a clientOffset of its own, before
 * it is sent. It stays there, shown as pending, and is sent again after every reconnect and whenever its ack is
 * late, until the server acknowledges it; the clientOffset makes every resend harmless. A refresh or a closed tab
 * loses nothing typed: the next page load sends what is left.
 */
(() => {
  const list = document.getElementById('messages');
  const form = document.getElementById('form');
  const input = document.getElementById('input');
  const stateLabel = document.getElementById('state');

  const BASE_BACKOFF_MS = 500;
  const MAX_BACKOFF_MS = 30000;
  const ACK_TIMEOUT_MS = 5000;
  const MAX_RENDERED = 1000; // older messages leave the page (they stay on the server)
  const HISTORY_KEY = 'chat.history'; // sessionStorage: { epoch, offset, messages: [{offset, text}] }
  const OUTBOX_KEY = 'chat.outbox'; // localStorage, shared by the tabs: { clientOffset: text }
  const RETRYABLE = new Set(['store-unavailable', 'overloaded', 'rate-limited']);

  let serverOffset = 0;
  let epoch = null; // the server's database our offsets come from
  let socket = null;
  let live = false;
  let failedAttempts = 0;
  let replayed = []; // this connection's messages before its synced, in case it says reset
  let pendingRender = []; // messages waiting for the next animation frame
  const outbox = new Map(); // clientOffset -> { text, element, sentAt }

  // ---- state shown to the user -------------------------------------------------------------------------------

  function setState(state) {
    stateLabel.dataset.state = state;
    stateLabel.textContent = state;
    document.body.dataset.state = state;
  }

  function atBottom() {
    const root = document.scrollingElement;
    return root.scrollHeight - root.scrollTop - root.clientHeight < 48;
  }

  function followingScroll(change) {
    const follow = atBottom();
    change();
    if (follow) {
      window.scrollTo(0, document.body.scrollHeight);
    }
  }

  function messageItem(text, offset) {
    const item = document.createElement('li');
    item.textContent = text;
    item.dataset.offset = String(offset);
    return item;
  }

  /** Renders delivered messages in batches, one batch per frame, so a long replay never freezes the tab. */
  function render(text, offset) {
    pendingRender.push({ text, offset });
    if (pendingRender.length === 1) {
      window.requestAnimationFrame(flushRender);
      window.setTimeout(flushRender, 100); // a hidden tab gets no animation frames
    }
  }

  function flushRender() {
    if (pendingRender.length === 0) {
      return;
    }
    const batch = pendingRender.slice(-MAX_RENDERED);
    pendingRender = [];
    followingScroll(() => {
      const fragment = document.createDocumentFragment();
      for (const message of batch) {
        fragment.appendChild(messageItem(message.text, message.offset));
      }
      list.insertBefore(fragment, list.querySelector('li.pending'));
      const delivered = list.querySelectorAll('li[data-offset]');
      for (let i = 0; i < delivered.length - MAX_RENDERED; i++) {
        delivered[i].remove();
      }
    });
    saveHistory();
  }

  function clearDelivered() {
    pendingRender = [];
    list.querySelectorAll('li[data-offset]').forEach((item) => item.remove());
  }

  function showError(text) {
    const item = document.createElement('li');
    item.className = 'error';
    item.setAttribute('role', 'alert');
    item.textContent = text;
    followingScroll(() => list.insertBefore(item, list.querySelector('li.pending')));
  }

  // ---- what survives a refresh ---------------------------------------------------------------------------------

  function readJson(storage, key, fallback) {
    try {
      const value = storage.getItem(key);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) {
      console.warn('Ignoring unreadable ' + key, e);
      return fallback;
    }
  }

  function writeJson(storage, key, value) {
    try {
      storage.setItem(key, JSON.stringify(value));
    } catch (e) {
      console.warn('Cannot keep ' + key + ' for the next page load', e);
    }
  }

  function saveHistory() {
    const messages = Array.from(list.querySelectorAll('li[data-offset]'),
      (item) => ({ offset: Number(item.dataset.offset), text: item.textContent }));
    writeJson(window.sessionStorage, HISTORY_KEY, { epoch, offset: serverOffset, messages });
  }

  /** Read, change, write: other tabs of the chat keep their messages in the same outbox. */
  function changeStoredOutbox(change) {
    const stored = readJson(window.localStorage, OUTBOX_KEY, {});
    change(stored && typeof stored === 'object' && !Array.isArray(stored) ? stored : {});
  }

  function storeInOutbox(clientOffset, text) {
    changeStoredOutbox((stored) => {
      stored[clientOffset] = text;
      writeJson(window.localStorage, OUTBOX_KEY, stored);
    });
  }

  function removeFromOutbox(clientOffset) {
    changeStoredOutbox((stored) => {
      delete stored[clientOffset];
      writeJson(window.localStorage, OUTBOX_KEY, stored);
    });
  }

  function restore() {
    const history = readJson(window.sessionStorage, HISTORY_KEY, null);
    if (history && Number.isSafeInteger(history.offset) && Array.isArray(history.messages)) {
      serverOffset = history.offset;
      epoch = typeof history.epoch === 'string' ? history.epoch : null;
      const fragment = document.createDocumentFragment();
      for (const message of history.messages) {
        fragment.appendChild(messageItem(String(message.text), message.offset));
      }
      list.appendChild(fragment);
    }
    // Everything not yet acknowledged, this tab's earlier life's and other tabs' alike: a message sent twice is
    // stored once.
    changeStoredOutbox((stored) => {
      for (const [clientOffset, text] of Object.entries(stored)) {
        if (typeof text === 'string') {
          addPending(clientOffset, text);
        }
      }
    });
    window.scrollTo(0, document.body.scrollHeight);
  }

  // ---- the connection ------------------------------------------------------------------------------------------

  function chatUrl() {
    const url = new URL('chat', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.hash = '';
    url.search = '?serverOffset=' + encodeURIComponent(String(serverOffset))
      + (epoch ? '&epoch=' + encodeURIComponent(epoch) : '');
    return url.toString();
  }

  function connect() {
    live = false;
    replayed = [];
    setState(failedAttempts === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(chatUrl());
    socket = ws;
    ws.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        console.error('Unreadable frame from the server', event.data, e);
        return;
      }
      handle(frame);
    };
    ws.onclose = () => {
      if (socket !== ws) {
        return;
      }
      socket = null;
      live = false;
      failedAttempts++;
      setState('reconnecting');
      const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.min(failedAttempts - 1, 10));
      window.setTimeout(connect, ceiling / 2 + Math.random() * ceiling / 2);
    };
  }

  function handle(frame) {
    switch (frame.type) {
      case 'chat message':
        if (!live) {
          replayed.push(frame);
        }
        if (Number.isSafeInteger(frame.offset) && frame.offset > serverOffset) {
          serverOffset = frame.offset;
          render(String(frame.text), frame.offset);
        }
        break;
      case 'synced':
        if (frame.reset) {
          // The server's database is not the one our offset came from: show its history instead of ours.
          clearDelivered();
          for (const message of replayed) {
            render(String(message.text), message.offset);
          }
          serverOffset = frame.offset;
        }
        if (typeof frame.epoch === 'string') {
          epoch = frame.epoch;
        }
        saveHistory();
        replayed = [];
        live = true;
        failedAttempts = 0;
        setState('live');
        sendOutbox(0);
        break;
      case 'ack':
        delivered(frame.clientOffset);
        break;
      case 'error': {
        const message = frame.clientOffset ? outbox.get(frame.clientOffset) : undefined;
        if (message && RETRYABLE.has(frame.code)) {
          // Not stored this time: it stays pending and goes again at the next check.
          message.sentAt = 0;
          message.element.title = frame.message;
          message.element.dataset.error = frame.code;
        } else {
          if (message) {
            // Refused for what it is (bad-text, ...): sending it again would not help.
            delivered(frame.clientOffset);
          }
          showError(frame.code + ': ' + frame.message);
        }
        break;
      }
      default:
        console.warn('Unknown frame type from the server', frame);
    }
  }

  // ---- the outbox ----------------------------------------------------------------------------------------------

  function newClientOffset() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      return window.crypto.randomUUID();
    }
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function addPending(clientOffset, text) {
    if (outbox.has(clientOffset)) {
      return;
    }
    const element = document.createElement('li');
    element.className = 'pending';
    element.textContent = text;
    element.title = 'sending';
    element.dataset.clientOffset = clientOffset;
    followingScroll(() => list.appendChild(element));
    outbox.set(clientOffset, { text, element, sentAt: 0 });
  }

  function delivered(clientOffset) {
    const message = outbox.get(clientOffset);
    if (message) {
      outbox.delete(clientOffset);
      message.element.remove();
    }
    removeFromOutbox(clientOffset);
  }

  /** Sends every outbox message not sent within the last {@code olderThanMs}. */
  function sendOutbox(olderThanMs) {
    if (!live || !socket || socket.readyState !== WebSocket.OPEN) {
      return;
    }
    const now = Date.now();
    for (const [clientOffset, message] of outbox) {
      if (now - message.sentAt >= olderThanMs) {
        message.sentAt = now;
        socket.send(JSON.stringify({ type: 'chat message', text: message.text, clientOffset }));
      }
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value;
    if (text.trim().length === 0) {
      return;
    }
    input.value = '';
    const clientOffset = newClientOffset();
    storeInOutbox(clientOffset, text);
    addPending(clientOffset, text);
    sendOutbox(ACK_TIMEOUT_MS);
  });

  window.setInterval(() => sendOutbox(ACK_TIMEOUT_MS), 1000);

  restore();
  connect();
})();
