'use strict';

/*
 * The chat page. Wire contract: README.md, "Protocol".
 * It renders every message once, in offset order; after any disconnect it reconnects with backoff and passes the
 * last offset it rendered as serverOffset, so the server replays exactly what it missed. Messages it sent are
 * shown as pending until the server acknowledges them, and sent again after a reconnect (the clientOffset makes a
 * resend harmless).
 */
(() => {
  const list = document.getElementById('messages');
  const form = document.getElementById('form');
  const input = document.getElementById('input');
  const stateLabel = document.getElementById('state');

  const MAX_BACKOFF_MS = 30000;
  const BASE_BACKOFF_MS = 500;

  let serverOffset = 0;
  let socket = null;
  let live = false;
  let replayed = []; // chat messages of this connection before its synced, in case it says reset
  let failedAttempts = 0;
  const pending = new Map(); // clientOffset -> { text, element }

  function setState(state) {
    stateLabel.dataset.state = state;
    stateLabel.textContent = state;
  }

  function chatUrl() {
    const url = new URL('chat', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.hash = '';
    url.search = '?serverOffset=' + encodeURIComponent(String(serverOffset));
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
      const delay = ceiling / 2 + Math.random() * ceiling / 2;
      window.setTimeout(connect, delay);
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
          render(frame.text, frame.offset);
        }
        break;
      case 'synced':
        if (frame.reset) {
          // The server's history is not the one our offset came from: show its history instead of ours.
          list.querySelectorAll('li:not(.pending)').forEach((item) => item.remove());
          for (const message of replayed) {
            render(message.text, message.offset);
          }
          serverOffset = frame.offset;
        }
        replayed = [];
        live = true;
        failedAttempts = 0;
        setState('live');
        for (const [clientOffset, message] of pending) {
          transmit(clientOffset, message.text);
        }
        break;
      case 'ack': {
        const message = pending.get(frame.clientOffset);
        if (message) {
          pending.delete(frame.clientOffset);
          message.element.remove();
        }
        break;
      }
      case 'error':
        showError(frame.code + ': ' + frame.message);
        break;
      default:
        console.warn('Unknown frame type from the server', frame);
    }
  }

  function atBottom() {
    const root = document.scrollingElement;
    return root.scrollHeight - root.scrollTop - root.clientHeight < 48;
  }

  function append(element, before) {
    const follow = atBottom();
    list.insertBefore(element, before || null);
    if (follow) {
      window.scrollTo(0, document.body.scrollHeight);
    }
  }

  function render(text, offset) {
    const item = document.createElement('li');
    item.textContent = text;
    item.dataset.offset = String(offset);
    append(item, list.querySelector('li.pending'));
  }

  function showError(text) {
    const item = document.createElement('li');
    item.className = 'error';
    item.textContent = text;
    append(item);
  }

  function newClientOffset() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      return window.crypto.randomUUID();
    }
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function transmit(clientOffset, text) {
    if (socket && live && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: 'chat message', text, clientOffset }));
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value;
    if (text.length === 0) {
      return;
    }
    input.value = '';
    const clientOffset = newClientOffset();
    const element = document.createElement('li');
    element.className = 'pending';
    element.textContent = text;
    element.title = 'sending';
    append(element);
    pending.set(clientOffset, { text, element });
    transmit(clientOffset, text);
  });

  connect();
})();
