'use strict';

/*
 * The chat page. Wire contract: docs/PROTOCOL.md (version 2: all of the user's rooms on one WebSocket).
 *
 * Server delivery, per room: every message of a room is rendered once, in that room's offset order. Each room's
 * last offset, last read offset and newest messages are kept in sessionStorage, so a refresh shows them at once and
 * asks the server, room by room, only for what is newer. After any disconnect the page reconnects with backoff and
 * jitter and joins every room again with its own offset. A room's unread count is its newest offset minus the last
 * offset read in it: offsets of a room are gapless.
 *
 * Client delivery: what the user sends goes into an outbox in localStorage, with the room it was typed in and a
 * clientOffset of its own, before it is sent. It stays there, shown as pending in its room only, and is sent again
 * after every reconnect and whenever its ack is late, until the server acknowledges it; the clientOffset makes every
 * resend harmless. A refresh or a closed tab loses nothing typed: the next page load sends what is left.
 *
 * Presence: after a room's synced the server lists who is in it, then who joined and left (or only a count in a big
 * room); the open room's people are shown beside the messages, their number in the header. Typing goes out at most
 * every TYPING_SEND_MS while the user types, and "Ada is typing…" shows for TYPING_SHOWN_MS after someone's last.
 *
 * The list shows one room: at most MAX_RENDERED messages, the newest when it opens. Scrolling to the top loads older
 * ones with history frames until the room's start. Past MAX_RENDERED the newest leave the list instead (the room is
 * then "detached" from its live end, and "Newest messages" brings it back), so what the user reads never moves.
 */
(() => {
  const list = document.getElementById('messages');
  const form = document.getElementById('form');
  const input = document.getElementById('input');
  const stateLabel = document.getElementById('state');
  const roomList = document.getElementById('rooms');
  const roomTitle = document.getElementById('room-title');
  const joinForm = document.getElementById('join');
  const joinInput = document.getElementById('join-room');
  const knownRooms = document.getElementById('known-rooms');
  const menuButton = document.getElementById('menu');
  const menuUnread = document.getElementById('menu-unread');
  const olderButton = document.getElementById('older');
  const roomStart = document.getElementById('room-start');
  const newestButton = document.getElementById('newest');
  const nameForm = document.getElementById('name-form');
  const nameInput = document.getElementById('name');
  const onlineList = document.getElementById('online');
  const onlineTitle = document.getElementById('online-title');
  const onlineCount = document.getElementById('online-count');
  const typingLine = document.getElementById('typing');

  const BASE_BACKOFF_MS = 500;
  const MAX_BACKOFF_MS = 30000;
  const ACK_TIMEOUT_MS = 5000;
  const MAX_RENDERED = 1000; // messages in the list at once (older ones stay on the server)
  const KEPT_PER_ROOM = 1000; // newest messages of each room kept for a refresh and for switching rooms
  const HISTORY_PAGE = 50;
  const TYPING_SEND_MS = 2000; // the server forwards one typing frame per person and room in 2 s
  const TYPING_SHOWN_MS = 5000;
  const DEFAULT_ROOM = 'general';
  const ROOM_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
  const STATE_KEY = 'chat.rooms'; // sessionStorage: { epoch, current, rooms: { name: { offset, read, messages } } }
  const OLD_HISTORY_KEY = 'chat.history'; // sessionStorage of the single-room page: { epoch, offset, messages }
  const JOINED_KEY = 'chat.joined'; // localStorage: the rooms a new tab opens, [name]
  const NAME_KEY = 'chat.name'; // localStorage: the name the user chose (anonymous mode)
  const OUTBOX_KEY = 'chat.outbox'; // localStorage, shared by the tabs: { clientOffset: { room, text } }
  const RETRYABLE = new Set(['store-unavailable', 'overloaded', 'rate-limited']);
  const JOIN_REFUSED = new Set(['bad-room', 'no-such-room', 'too-many-rooms']);

  let epoch = null; // the server's database our offsets come from
  let socket = null;
  let open = false;
  let failedAttempts = 0;
  let current = DEFAULT_ROOM;
  let pendingRender = []; // messages of the current room waiting for the next animation frame
  let saveScheduled = false;
  let you = null; // { author, verified }: who the server knows this connection as, from its first presence frame
  let lastTypingSent = 0;
  const rooms = new Map(); // name -> room, in the order of the list
  const outbox = new Map(); // clientOffset -> { room, text, element, sentAt }

  /**
   * offset: the newest offset received; read: the newest offset the user has seen; messages: the newest
   * KEPT_PER_ROOM, ascending; synced: this connection's replay of the room is done; replayed: this connection's
   * messages of the room before its synced, in case it says reset; start: the room's first offset, once known;
   * detached: the list does not show the room's newest messages; loadingOlder: a history frame is awaited;
   * people: who is online, by personKey, or null while unknown or when the room is too big to list them;
   * count: how many are; typing: personKey -> { person, until } of those typing now.
   */
  function newRoom(name, saved) {
    const offset = saved && Number.isSafeInteger(saved.offset) && saved.offset >= 0 ? saved.offset : 0;
    const read = saved && Number.isSafeInteger(saved.read) ? Math.min(saved.read, offset) : offset;
    const messages = saved && Array.isArray(saved.messages)
      ? saved.messages.filter((m) => Number.isSafeInteger(m.offset) && m.offset <= offset)
        .map(messageOf)
      : [];
    return { name, offset, read, messages, synced: false, replayed: [], start: null, detached: false,
      loadingOlder: false, left: false, link: null, badge: null, people: null, count: 0, typing: new Map() };
  }

  // ---- state shown to the user -------------------------------------------------------------------------------

  function showState() {
    const room = rooms.get(current);
    const state = open && room && room.synced ? 'live' : failedAttempts === 0 ? 'connecting' : 'reconnecting';
    stateLabel.dataset.state = state;
    stateLabel.textContent = state;
    document.body.dataset.state = state;
  }

  function unread(room) {
    return room.name === current ? 0 : Math.max(0, room.offset - room.read);
  }

  function showUnread() {
    let total = 0;
    for (const room of rooms.values()) {
      const count = unread(room);
      total += count;
      room.badge.textContent = String(count);
      room.badge.hidden = count === 0;
      if (room.name === current) {
        room.link.setAttribute('aria-current', 'page');
      } else {
        room.link.removeAttribute('aria-current');
      }
    }
    menuUnread.textContent = String(total);
    menuUnread.hidden = total === 0;
    document.title = (total > 0 ? '(' + total + ') ' : '') + '#' + current + ' · Chat';
  }

  function roomItem(room) {
    const item = document.createElement('li');
    item.dataset.room = room.name;
    const link = document.createElement('a');
    link.href = '#' + room.name;
    const label = document.createElement('span');
    label.className = 'name';
    label.textContent = '#' + room.name;
    link.appendChild(label);
    const badge = document.createElement('span');
    badge.className = 'unread';
    badge.hidden = true;
    link.appendChild(badge);
    item.appendChild(link);
    if (room.name !== DEFAULT_ROOM) {
      const leave = document.createElement('button');
      leave.type = 'button';
      leave.className = 'leave';
      leave.textContent = '×';
      leave.setAttribute('aria-label', 'Leave #' + room.name);
      leave.addEventListener('click', () => leaveRoom(room.name));
      item.appendChild(leave);
    }
    room.link = link;
    room.badge = badge;
    return item;
  }

  function atBottom() {
    const root = document.scrollingElement;
    return root.scrollHeight - root.scrollTop - root.clientHeight < 48;
  }

  function scrollToBottom() {
    window.scrollTo(0, document.body.scrollHeight);
  }

  /** A delivered message as the page keeps it, from a chat message frame (or what an earlier page load kept). */
  function messageOf(frame) {
    return {
      offset: frame.offset,
      text: String(frame.text),
      author: typeof frame.author === 'string' ? frame.author : 'anonymous',
      verified: frame.verified === true,
      time: Number.isSafeInteger(frame.time) ? frame.time : null,
    };
  }

  function shownTime(time) {
    const date = new Date(time);
    const today = new Date();
    const clock = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    return date.toDateString() === today.toDateString() ? clock : date.toLocaleDateString() + ' ' + clock;
  }

  function messageItem(message) {
    const item = document.createElement('li');
    item.dataset.offset = String(message.offset);
    const byline = document.createElement('span');
    byline.className = 'byline';
    const author = document.createElement('span');
    author.className = 'author';
    author.textContent = message.author;
    byline.appendChild(author);
    if (message.verified) {
      const mark = document.createElement('span');
      mark.className = 'verified';
      mark.textContent = '\u2713';
      mark.title = 'signed in';
      mark.setAttribute('aria-label', 'signed in');
      byline.appendChild(mark);
    }
    if (message.time !== null) {
      const time = document.createElement('time');
      time.dateTime = new Date(message.time).toISOString();
      time.textContent = shownTime(message.time);
      byline.appendChild(time);
    }
    if (isYou(message)) {
      item.classList.add('mine');
    }
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = message.text;
    item.append(byline, text);
    return item;
  }

  /** Whether a person ({ author, verified }) is the user: as the server named this connection, or by the name chosen. */
  function isYou(person) {
    return you ? person.author === you.author && person.verified === you.verified
      : !person.verified && person.author === chosenName();
  }

  function personKey(person) {
    return (person.verified ? 'v:' : 'c:') + person.author;
  }

  function personOf(value) {
    return { author: String(value && value.author), verified: !!(value && value.verified === true) };
  }

  /** The open room's people beside the messages, and their number in the header. */
  function showPeople() {
    const room = rooms.get(current);
    onlineTitle.textContent = 'Online in #' + room.name;
    const items = [];
    for (const person of room.people ? room.people.values() : []) {
      const item = document.createElement('li');
      item.textContent = person.author;
      if (person.verified) {
        const mark = document.createElement('span');
        mark.className = 'verified';
        mark.textContent = '\u2713';
        mark.setAttribute('aria-label', 'signed in');
        item.appendChild(mark);
      }
      if (isYou(person)) {
        item.append(' (you)');
      }
      items.push(item);
    }
    onlineList.replaceChildren(...items);
    onlineCount.textContent = room.synced ? room.count + ' online' : '';
  }

  function presence(room, frame) {
    if (frame.you && (!you || personKey(you) !== personKey(personOf(frame.you)))) {
      you = personOf(frame.you);
      nameForm.hidden = you.verified; // the login names a signed-in user
      for (const item of delivered()) {
        const author = item.querySelector('.author');
        item.classList.toggle('mine', !!author
          && isYou({ author: author.textContent, verified: !!item.querySelector('.verified') }));
      }
    }
    if (Array.isArray(frame.online)) {
      room.people = new Map(frame.online.map((p) => [personKey(personOf(p)), personOf(p)]));
      room.count = room.people.size;
    } else if (Number.isSafeInteger(frame.count)) {
      room.people = null;
      room.count = frame.count;
    } else if (room.people) {
      for (const p of Array.isArray(frame.joined) ? frame.joined : []) {
        room.people.set(personKey(personOf(p)), personOf(p));
      }
      for (const p of Array.isArray(frame.left) ? frame.left : []) {
        room.people.delete(personKey(personOf(p)));
        room.typing.delete(personKey(personOf(p)));
      }
      room.count = room.people.size;
    }
    if (room.name === current) {
      showPeople();
      showTyping();
    }
  }

  function typing(room, frame) {
    const person = personOf(frame);
    if (!isYou(person)) {
      room.typing.set(personKey(person), { person, until: Date.now() + TYPING_SHOWN_MS });
      if (room.name === current) {
        showTyping();
      }
    }
  }

  /** "Ada is typing…" under the open room's messages while anyone typed there in the last TYPING_SHOWN_MS. */
  function showTyping() {
    const room = rooms.get(current);
    const now = Date.now();
    const names = [];
    for (const [key, entry] of room.typing) {
      if (entry.until <= now) {
        room.typing.delete(key);
      } else {
        names.push(entry.person.author);
      }
    }
    typingLine.textContent = names.length === 0 ? ''
      : names.length === 1 ? names[0] + ' is typing\u2026'
      : names.length <= 3 ? names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1] + ' are typing\u2026'
      : 'Several people are typing\u2026';
  }

  function sendTyping() {
    const room = rooms.get(current);
    const now = Date.now();
    if (open && socket && socket.readyState === WebSocket.OPEN && room && room.synced
        && now - lastTypingSent >= TYPING_SEND_MS) {
      lastTypingSent = now;
      socket.send(JSON.stringify({ type: 'typing', room: current }));
    }
  }

  function pendingItem(clientOffset, text) {
    const element = document.createElement('li');
    element.className = 'pending';
    element.textContent = text;
    element.title = 'sending';
    element.dataset.clientOffset = clientOffset;
    return element;
  }

  function firstPending() {
    return list.querySelector('li.pending');
  }

  function delivered() {
    return list.querySelectorAll('li[data-offset]');
  }

  /** Shows a room from its kept messages: the newest, with its pending messages below them. */
  function showRoom(name) {
    const room = rooms.get(name);
    current = name;
    pendingRender = [];
    room.detached = false;
    room.loadingOlder = false;
    list.replaceChildren();
    const fragment = document.createDocumentFragment();
    for (const message of room.messages.slice(-MAX_RENDERED)) {
      fragment.appendChild(messageItem(message));
    }
    for (const [clientOffset, message] of outbox) {
      message.element = null;
      if (message.room === name) {
        message.element = pendingItem(clientOffset, message.text);
        fragment.appendChild(message.element);
      }
    }
    list.appendChild(fragment);
    roomTitle.textContent = '#' + name;
    room.read = room.offset;
    showEdges();
    showUnread();
    showState();
    showPeople();
    showTyping();
    scrollToBottom();
    scheduleSave();
  }

  /** The controls at both ends of the list: older messages or the room's start above, newest messages below. */
  function showEdges() {
    const room = rooms.get(current);
    const first = delivered()[0];
    const firstOffset = first ? Number(first.dataset.offset) : room.offset + 1;
    const atStart = firstOffset <= 1 || room.start !== null && firstOffset <= room.start;
    olderButton.hidden = atStart;
    roomStart.hidden = !atStart;
    roomStart.textContent = 'This is the start of #' + room.name + '.';
    newestButton.hidden = !room.detached;
  }

  /** Renders the current room's delivered messages in batches, one per frame, so a long replay never freezes. */
  function render(message) {
    pendingRender.push(message);
    if (pendingRender.length === 1) {
      window.requestAnimationFrame(flushRender);
      window.setTimeout(flushRender, 100); // a hidden tab gets no animation frames
    }
  }

  function flushRender() {
    if (pendingRender.length === 0) {
      return;
    }
    const room = rooms.get(current);
    const batch = pendingRender.slice(-MAX_RENDERED);
    pendingRender = [];
    const follow = atBottom();
    const fragment = document.createDocumentFragment();
    for (const message of batch) {
      fragment.appendChild(messageItem(message));
    }
    list.insertBefore(fragment, firstPending());
    const shown = delivered();
    const excess = shown.length - MAX_RENDERED;
    if (excess > 0 && !follow) {
      // The user reads older messages: keep them where they are and let the newest go instead.
      for (let i = shown.length - 1; i >= MAX_RENDERED; i--) {
        shown[i].remove();
      }
      room.detached = true;
    } else {
      for (let i = 0; i < excess; i++) {
        shown[i].remove();
      }
    }
    room.read = room.offset;
    showEdges();
    showUnread();
    if (follow) {
      scrollToBottom();
    }
    scheduleSave();
  }

  function showError(text) {
    const item = document.createElement('li');
    item.className = 'error';
    item.setAttribute('role', 'alert');
    item.textContent = text;
    const follow = atBottom();
    list.insertBefore(item, firstPending());
    if (follow) {
      scrollToBottom();
    }
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

  /** Coalesces the saves of a burst of messages into one write. */
  function scheduleSave() {
    if (!saveScheduled) {
      saveScheduled = true;
      window.setTimeout(save, 200);
    }
  }

  function save() {
    saveScheduled = false;
    const saved = {};
    for (const room of rooms.values()) {
      saved[room.name] = { offset: room.offset, read: room.read, messages: room.messages };
    }
    writeJson(window.sessionStorage, STATE_KEY, { epoch, current, rooms: saved });
    writeJson(window.localStorage, JOINED_KEY, Array.from(rooms.keys()));
  }

  /** Read, change, write: other tabs of the chat keep their messages in the same outbox. */
  function changeStoredOutbox(change) {
    const stored = readJson(window.localStorage, OUTBOX_KEY, {});
    const outboxed = stored && typeof stored === 'object' && !Array.isArray(stored) ? stored : {};
    change(outboxed);
    writeJson(window.localStorage, OUTBOX_KEY, outboxed);
  }

  /** An entry of the outbox; the single-room page stored only the text, which was general's. */
  function outboxed(value) {
    if (typeof value === 'string') {
      return { room: DEFAULT_ROOM, text: value };
    }
    if (value && typeof value.text === 'string' && typeof value.room === 'string' && ROOM_NAME.test(value.room)) {
      return { room: value.room, text: value.text };
    }
    return null;
  }

  function roomInHash() {
    let name = '';
    try {
      name = decodeURIComponent(window.location.hash.slice(1));
    } catch (e) {
      return null;
    }
    return ROOM_NAME.test(name) ? name : null;
  }

  function restore() {
    let state = readJson(window.sessionStorage, STATE_KEY, null);
    if (!state || typeof state.rooms !== 'object' || state.rooms === null) {
      const old = readJson(window.sessionStorage, OLD_HISTORY_KEY, null);
      state = { epoch: old && old.epoch, current: DEFAULT_ROOM, rooms: { [DEFAULT_ROOM]: old } };
    }
    epoch = typeof state.epoch === 'string' ? state.epoch : null;
    const joined = readJson(window.localStorage, JOINED_KEY, []);
    const names = [DEFAULT_ROOM, ...Object.keys(state.rooms), ...(Array.isArray(joined) ? joined : [])];
    for (const name of names) {
      if (typeof name === 'string' && ROOM_NAME.test(name) && !rooms.has(name)) {
        addRoom(name, state.rooms[name]);
      }
    }
    // Everything not yet acknowledged, this tab's earlier life's and other tabs' alike: a message sent twice is
    // stored once. Each goes back to the room it was typed in.
    changeStoredOutbox((stored) => {
      for (const [clientOffset, value] of Object.entries(stored)) {
        const message = outboxed(value);
        if (message) {
          addRoom(message.room);
          outbox.set(clientOffset, { room: message.room, text: message.text, element: null, sentAt: 0 });
        }
      }
    });
    const wanted = roomInHash() || (typeof state.current === 'string' ? state.current : DEFAULT_ROOM);
    addRoom(wanted);
    showRoom(rooms.has(wanted) ? wanted : DEFAULT_ROOM);
  }

  /** The name the user chose, or '' for a guest's (the server names one for each connection). */
  function chosenName() {
    try {
      return window.localStorage.getItem(NAME_KEY) || '';
    } catch (e) {
      return '';
    }
  }

  // ---- rooms ---------------------------------------------------------------------------------------------------

  function addRoom(name, saved) {
    if (rooms.has(name)) {
      return rooms.get(name);
    }
    const room = newRoom(name, saved);
    rooms.set(name, room);
    roomList.appendChild(roomItem(room));
    if (open) {
      join(room);
    }
    return room;
  }

  function removeRoom(name) {
    const room = rooms.get(name);
    if (!room || name === DEFAULT_ROOM) {
      return;
    }
    rooms.delete(name);
    roomList.querySelector('li[data-room="' + name + '"]').remove();
    if (current === name) {
      window.location.hash = '#' + DEFAULT_ROOM;
      showRoom(DEFAULT_ROOM);
    }
    showUnread();
    scheduleSave();
  }

  function join(room) {
    room.synced = false;
    room.replayed = [];
    const frame = { type: 'join', room: room.name, serverOffset: room.offset };
    if (epoch) {
      frame.epoch = epoch;
    }
    socket.send(JSON.stringify(frame));
  }

  function leaveRoom(name) {
    const room = rooms.get(name);
    if (!room) {
      return;
    }
    if (open) {
      room.left = true;
      socket.send(JSON.stringify({ type: 'leave', room: name }));
    } else {
      removeRoom(name);
    }
  }

  function openRoom(name) {
    addRoom(name);
    if (name !== current) {
      showRoom(name);
    }
    document.body.dataset.menu = 'closed';
    menuButton.setAttribute('aria-expanded', 'false');
  }

  function loadOlder() {
    const room = rooms.get(current);
    const first = delivered()[0];
    if (!open || room.loadingOlder || olderButton.hidden || !first) {
      return;
    }
    room.loadingOlder = true;
    socket.send(JSON.stringify({ type: 'history', room: room.name, before: Number(first.dataset.offset),
      limit: HISTORY_PAGE }));
  }

  /** Older messages above the list, keeping what the user looks at in place. */
  function showOlder(frame) {
    const room = rooms.get(frame.room);
    if (!room || frame.room !== current || !room.loadingOlder) {
      return;
    }
    room.loadingOlder = false;
    const first = delivered()[0];
    const before = first ? Number(first.dataset.offset) : room.offset + 1;
    const older = (Array.isArray(frame.messages) ? frame.messages : [])
      .filter((m) => Number.isSafeInteger(m.offset) && m.offset < before);
    // What the user looks at is the first message shown: it stays where it is on the screen.
    const anchor = first || firstPending();
    const anchorTop = anchor ? anchor.getBoundingClientRect().top : 0;
    if (older.length === 0) {
      room.start = before;
    } else {
      const fragment = document.createDocumentFragment();
      for (const message of older) {
        fragment.appendChild(messageItem(messageOf(message)));
      }
      list.insertBefore(fragment, anchor);
      const shown = delivered();
      if (shown.length > MAX_RENDERED) {
        for (let i = shown.length - 1; i >= MAX_RENDERED; i--) {
          shown[i].remove();
        }
        room.detached = true;
      }
    }
    showEdges();
    if (anchor) {
      window.scrollBy(0, anchor.getBoundingClientRect().top - anchorTop);
    }
    // Scrolled back to the top again before the browser dispatched a scroll event for the move above: the two
    // moves can land in one frame, which then has no scroll event to show for them.
    window.requestAnimationFrame(loadOlderAtTop);
  }

  function loadOlderAtTop() {
    if (document.scrollingElement.scrollTop < 64 && !olderButton.hidden) {
      loadOlder();
    }
  }

  // ---- the connection ------------------------------------------------------------------------------------------

  function chatUrl() {
    const url = new URL('chat', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.hash = '';
    // Joins no room: each is joined with its own offset. frames=lines: several frames may come in one message.
    url.search = '?room=&frames=lines';
    if (chosenName()) {
      url.search += '&name=' + encodeURIComponent(chosenName());
    }
    return url.toString();
  }

  function connect() {
    showState();
    const ws = new WebSocket(chatUrl());
    socket = ws;
    ws.onopen = () => {
      open = true;
      ws.send(JSON.stringify({ type: 'rooms' }));
      for (const room of rooms.values()) {
        join(room);
      }
    };
    ws.onmessage = (event) => {
      for (const line of event.data.split('\n')) {
        let frame;
        try {
          frame = JSON.parse(line);
        } catch (e) {
          console.error('Unreadable frame from the server', line, e);
          continue;
        }
        handle(frame);
      }
    };
    ws.onclose = () => {
      if (socket !== ws) {
        return;
      }
      socket = null;
      open = false;
      for (const room of rooms.values()) {
        room.synced = false;
        room.replayed = [];
        room.loadingOlder = false;
        room.people = null;
        room.count = 0;
        room.typing.clear();
        if (room.left) {
          removeRoom(room.name);
        }
      }
      failedAttempts++;
      showState();
      showPeople();
      showTyping();
      const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.min(failedAttempts - 1, 10));
      window.setTimeout(connect, ceiling / 2 + Math.random() * ceiling / 2);
    };
  }

  function received(room, frame) {
    if (!room.synced) {
      room.replayed.push(frame);
    }
    if (Number.isSafeInteger(frame.offset) && frame.offset > room.offset) {
      room.offset = frame.offset;
      const message = messageOf(frame);
      room.messages.push(message);
      if (room.messages.length > KEPT_PER_ROOM * 1.5) {
        room.messages = room.messages.slice(-KEPT_PER_ROOM);
      }
      if (room.name === current && !room.detached) {
        render(message);
      } else {
        if (room.name === current) {
          room.read = room.offset;
        }
        showUnread();
        scheduleSave();
      }
    }
  }

  function synced(room, frame) {
    if (frame.reset) {
      // The server's database is not the one our offsets came from: show its history of the room instead.
      room.messages = room.replayed.slice(-KEPT_PER_ROOM)
        .map(messageOf);
      room.offset = frame.offset;
      room.read = Math.min(room.read, room.offset);
      room.start = null;
      if (room.name === current) {
        showRoom(room.name);
      }
    }
    if (typeof frame.epoch === 'string') {
      epoch = frame.epoch;
    }
    room.replayed = [];
    room.synced = true;
    failedAttempts = 0;
    showState();
    showUnread();
    scheduleSave();
    sendOutbox(0);
  }

  function handle(frame) {
    const room = rooms.get(typeof frame.room === 'string' ? frame.room : DEFAULT_ROOM);
    switch (frame.type) {
      case 'chat message':
        if (room) {
          received(room, frame);
        }
        break;
      case 'synced':
        if (room) {
          synced(room, frame);
        }
        break;
      case 'ack':
        acknowledged(frame.clientOffset);
        break;
      case 'history':
        showOlder(frame);
        break;
      case 'left':
        removeRoom(frame.room);
        break;
      case 'presence':
        if (room) {
          presence(room, frame);
        }
        break;
      case 'typing':
        if (room) {
          typing(room, frame);
        }
        break;
      case 'rooms':
        knownRooms.replaceChildren(...(Array.isArray(frame.rooms) ? frame.rooms : []).map((r) => {
          const option = document.createElement('option');
          option.value = String(r.room);
          return option;
        }));
        break;
      case 'error':
        refused(frame, room);
        break;
      default:
        console.warn('Unknown frame type from the server', frame);
    }
  }

  function refused(frame, room) {
    const message = frame.clientOffset ? outbox.get(frame.clientOffset) : undefined;
    if (message && RETRYABLE.has(frame.code)) {
      // Not stored this time: it stays pending and goes again at the next check.
      message.sentAt = 0;
      if (message.element) {
        message.element.title = frame.message;
        message.element.dataset.error = frame.code;
      }
      return;
    }
    if (message) {
      // Refused for what it is (bad-text, ...): sending it again would not help.
      acknowledged(frame.clientOffset);
    }
    if (room && !room.synced && JOIN_REFUSED.has(frame.code)) {
      removeRoom(room.name);
    }
    if (frame.code !== 'already-joined') {
      showError((typeof frame.room === 'string' ? '#' + frame.room + ' ' : '') + frame.code + ': ' + frame.message);
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

  function acknowledged(clientOffset) {
    const message = outbox.get(clientOffset);
    if (message) {
      outbox.delete(clientOffset);
      if (message.element) {
        message.element.remove();
      }
    }
    changeStoredOutbox((stored) => {
      delete stored[clientOffset];
    });
  }

  /** Sends every outbox message of a synced room not sent within the last {@code olderThanMs}. */
  function sendOutbox(olderThanMs) {
    if (!open || !socket || socket.readyState !== WebSocket.OPEN) {
      return;
    }
    const now = Date.now();
    for (const [clientOffset, message] of outbox) {
      const room = rooms.get(message.room);
      if (room && room.synced && now - message.sentAt >= olderThanMs) {
        message.sentAt = now;
        socket.send(JSON.stringify({ type: 'chat message', room: message.room, text: message.text, clientOffset }));
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
    changeStoredOutbox((stored) => {
      stored[clientOffset] = { room: current, text };
    });
    const element = pendingItem(clientOffset, text);
    outbox.set(clientOffset, { room: current, text, element, sentAt: 0 });
    const follow = atBottom();
    list.appendChild(element);
    if (follow) {
      scrollToBottom();
    }
    sendOutbox(ACK_TIMEOUT_MS);
  });

  joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = joinInput.value.trim().toLowerCase();
    if (!ROOM_NAME.test(name)) {
      joinInput.setCustomValidity('1 to 64 of a-z, 0-9, - and _, starting with a letter or digit');
      joinInput.reportValidity();
      return;
    }
    joinInput.value = '';
    window.location.hash = '#' + name;
  });
  joinInput.addEventListener('input', () => joinInput.setCustomValidity(''));

  nameInput.value = chosenName();
  nameForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = nameInput.value.trim();
    try {
      window.localStorage.setItem(NAME_KEY, name);
    } catch (e) {
      console.warn('Cannot keep the name for the next page load', e);
    }
    you = null;
    if (socket) {
      socket.close(1000, 'name changed'); // reconnects, under the new name
    }
    document.body.dataset.menu = 'closed';
    menuButton.setAttribute('aria-expanded', 'false');
  });

  menuButton.addEventListener('click', () => {
    const opening = document.body.dataset.menu !== 'open';
    document.body.dataset.menu = opening ? 'open' : 'closed';
    menuButton.setAttribute('aria-expanded', String(opening));
  });

  window.addEventListener('hashchange', () => {
    const name = roomInHash();
    if (name) {
      openRoom(name);
    }
  });

  window.addEventListener('scroll', loadOlderAtTop, { passive: true });
  olderButton.addEventListener('click', loadOlder);
  newestButton.addEventListener('click', () => showRoom(current));

  input.addEventListener('input', sendTyping);
  window.setInterval(() => {
    sendOutbox(ACK_TIMEOUT_MS);
    showTyping();
  }, 1000);

  restore();
  connect();
})();
