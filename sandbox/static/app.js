// The sandbox chat page: shows each persona's chat with the bot and sends what they do.
// The server keeps the history; this page only draws it. Message texts arrive as node trees
// (sandbox/telegram_html.py) and are built with createElement/textContent: no innerHTML.
"use strict";

const CHROME = {
  zh: {
    appTitle: "工会之声 · 本地试用",
    personas: "切换身份",
    sandboxNote: "本地试用环境：真实的机器人程序，消息不经过 Telegram。",
    placeholder: "输入消息…",
    send: "发送",
    attach: "发送文件",
    edited: "已编辑",
    registered: "已注册",
    unregistered: "未注册",
    empty: "还没有消息。发送 /start 开始。",
    connecting: "正在连接…",
    offline: "连接断开，正在重连…",
    stale: "这个按钮已失效。",
    problem: "⚠️ Telegram 会拒绝这条请求：",
    uploadFailed: "文件发送失败。",
    switchLanguage: "English",
  },
  en: {
    appTitle: "UnionVoice · local sandbox",
    personas: "Play as",
    sandboxNote: "Local sandbox: the real bot, no Telegram involved.",
    placeholder: "Message…",
    send: "Send",
    attach: "Send a file",
    edited: "edited",
    registered: "registered",
    unregistered: "not registered",
    empty: "No messages yet. Send /start to begin.",
    connecting: "Connecting…",
    offline: "Disconnected, reconnecting…",
    stale: "This button is no longer there.",
    problem: "⚠️ Telegram would refuse this request: ",
    uploadFailed: "The file could not be sent.",
    switchLanguage: "中文",
  },
};

// Telegram's formatting tags (already canonical from the server) → the element drawn.
const TAGS = {
  b: "b", i: "i", u: "u", s: "s", code: "code", pre: "pre", a: "a",
  "tg-spoiler": "span", blockquote: "blockquote", "tg-emoji": "span",
};
const SAFE_LINK = /^(https?:|tg:|mailto:)/i;

const state = {
  lang: localStorage.getItem("sandbox.lang") === "en" ? "en" : "zh",
  personas: [],
  chats: new Map(), // chat id → {messages: Map(id → view), keyboard}
  active: null,
  unread: new Map(),
  botUsername: "",
  socket: null,
};

const $ = (id) => document.getElementById(id);
const t = (key) => CHROME[state.lang][key];

function chat(chatId) {
  if (!state.chats.has(chatId)) state.chats.set(chatId, { messages: new Map(), keyboard: null });
  return state.chats.get(chatId);
}

// -- text ------------------------------------------------------------------------------------
function renderNodes(nodes, parent) {
  for (const node of nodes || []) {
    if (typeof node === "string") {
      parent.append(document.createTextNode(node));
      continue;
    }
    const tag = TAGS[node.tag];
    if (!tag) { // unknown: keep the text, drop the markup
      renderNodes(node.children, parent);
      continue;
    }
    const element = document.createElement(tag);
    if (node.tag === "a") {
      const href = String(node.href || "");
      if (SAFE_LINK.test(href)) {
        element.href = href;
        element.target = "_blank";
        element.rel = "noopener noreferrer";
        element.addEventListener("click", (event) => openLink(event, href));
      }
    } else if (node.tag === "tg-spoiler") {
      element.className = "spoiler";
      element.addEventListener("click", () => element.classList.add("revealed"));
    }
    renderNodes(node.children, element);
    parent.append(element);
  }
}

// A t.me link to this bot (e.g. a co-signing link) works here as in Telegram: /start <payload>.
function openLink(event, href) {
  const match = href.match(/^https:\/\/t\.me\/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]+)$/);
  if (match && match[1] === state.botUsername) {
    event.preventDefault();
    sendText(`/start ${match[2]}`);
  }
}

// -- messages --------------------------------------------------------------------------------
function formatTime(seconds) {
  const date = new Date(seconds * 1000);
  return date.toLocaleTimeString(state.lang === "zh" ? "zh-CN" : "en-GB",
    { hour: "2-digit", minute: "2-digit" });
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function messageElement(chatId, view) {
  const row = document.createElement("div");
  row.className = `message ${view.out ? "out" : "in"}`;
  row.id = `message-${view.id}`;
  row.dataset.messageId = view.id;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (view.photo) {
    const link = document.createElement("a");
    link.href = view.photo;
    link.target = "_blank";
    link.rel = "noopener";
    const image = document.createElement("img");
    image.src = view.photo;
    image.alt = "";
    image.className = "photo";
    link.append(image);
    bubble.append(link);
  }
  if (view.document) {
    const file = document.createElement("a");
    file.className = "document";
    file.href = view.document.url;
    file.download = view.document.name;
    const icon = document.createElement("span");
    icon.className = "document-icon";
    icon.textContent = "📄";
    const name = document.createElement("span");
    name.className = "document-name";
    name.textContent = view.document.name;
    const size = document.createElement("span");
    size.className = "document-size";
    size.textContent = formatSize(view.document.size);
    file.append(icon, name, size);
    bubble.append(file);
  }
  const body = view.text || view.caption;
  if (body) {
    const text = document.createElement("div");
    text.className = "text";
    renderNodes(body, text);
    bubble.append(text);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = (view.edited ? `${t("edited")} ` : "") + formatTime(view.date);
  bubble.append(meta);
  row.append(bubble);
  if (view.inline) row.append(inlineKeyboard(chatId, view));
  return row;
}

function inlineKeyboard(chatId, view) {
  const keyboard = document.createElement("div");
  keyboard.className = "inline-keyboard";
  for (const buttons of view.inline) {
    const row = document.createElement("div");
    row.className = "inline-row";
    for (const button of buttons) {
      const element = document.createElement("button");
      element.type = "button";
      element.className = "inline-button";
      element.textContent = button.text;
      if (button.data !== undefined) {
        element.addEventListener("click", () => press(chatId, view.id, button.data));
      } else if (button.url && SAFE_LINK.test(button.url)) {
        element.classList.add("url");
        element.addEventListener("click", (event) => {
          openLink(event, button.url);
          if (!event.defaultPrevented) window.open(button.url, "_blank", "noopener");
        });
      } else {
        element.disabled = true;
      }
      row.append(element);
    }
    keyboard.append(row);
  }
  return keyboard;
}

function systemLine(text, kind) {
  const line = document.createElement("div");
  line.className = `system ${kind}`;
  line.textContent = text;
  return line;
}

// -- drawing ---------------------------------------------------------------------------------
function drawPersonas() {
  const list = $("persona-list");
  list.replaceChildren();
  for (const persona of state.personas) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "persona" + (persona.chat_id === state.active ? " active" : "");
    button.dataset.persona = persona.key;
    const avatar = document.createElement("span");
    avatar.className = "avatar";
    avatar.textContent = persona.name.slice(-2);
    const text = document.createElement("span");
    text.className = "persona-text";
    const label = document.createElement("span");
    label.className = "persona-label";
    label.textContent = persona.label[state.lang];
    const detail = document.createElement("span");
    detail.className = "persona-detail";
    detail.textContent = `${persona.name} · ${persona.department}`;
    text.append(label, detail);
    button.append(avatar, text);
    const unread = state.unread.get(persona.chat_id) || 0;
    if (unread) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = String(unread);
      button.append(badge);
    }
    button.addEventListener("click", () => activate(persona.chat_id));
    item.append(button);
    list.append(item);
  }
}

function activePersona() {
  return state.personas.find((p) => p.chat_id === state.active);
}

function drawChat() {
  const persona = activePersona();
  if (!persona) return;
  $("chat-avatar").textContent = persona.name.slice(-2);
  $("chat-title").textContent = `${persona.label[state.lang]} · ${persona.name}`;
  $("chat-subtitle").textContent = persona.department;
  const messages = $("messages");
  messages.replaceChildren();
  const current = chat(state.active);
  if (current.messages.size === 0) messages.append(systemLine(t("empty"), "hint"));
  for (const view of current.messages.values()) {
    messages.append(messageElement(state.active, view));
  }
  drawReplyKeyboard();
  scrollDown();
}

function drawReplyKeyboard() {
  const area = $("reply-keyboard");
  const keyboard = state.active === null ? null : chat(state.active).keyboard;
  area.replaceChildren();
  area.hidden = !keyboard;
  $("text-input").placeholder = (keyboard && keyboard.placeholder) || t("placeholder");
  if (!keyboard) return;
  for (const buttons of keyboard.rows) {
    const row = document.createElement("div");
    row.className = "reply-row";
    for (const text of buttons) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "reply-button";
      button.textContent = text;
      button.addEventListener("click", () => sendText(text));
      row.append(button);
    }
    area.append(row);
  }
}

function drawChrome() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = t("appTitle");
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  $("lang-toggle").textContent = t("switchLanguage");
  $("send-button").textContent = t("send");
  $("attach").title = t("attach");
  drawPersonas();
  drawChat();
}

function scrollDown() {
  const messages = $("messages");
  messages.scrollTop = messages.scrollHeight;
}

function activate(chatId) {
  state.active = chatId;
  state.unread.delete(chatId);
  localStorage.setItem("sandbox.persona", String(chatId));
  drawPersonas();
  drawChat();
  $("text-input").focus();
}

// -- events from the server ------------------------------------------------------------------
function onEvent(event) {
  switch (event.type) {
    case "hello": return onHello(event);
    case "message": return onMessage(event);
    case "edit": return onEdit(event);
    case "delete": return onDelete(event);
    case "keyboard":
      chat(event.chat_id).keyboard = event.keyboard;
      if (event.chat_id === state.active) drawReplyKeyboard();
      return;
    case "toast": return event.chat_id === state.active && showToast(event.text, event.alert);
    case "problem": return onProblem(event);
    case "stale": return showToast(t("stale"), false);
    case "reload": return state.socket && state.socket.close();
  }
}

function onHello(event) {
  state.botUsername = event.bot_username;
  state.personas = event.personas;
  state.chats = new Map();
  for (const [chatId, saved] of Object.entries(event.chats)) {
    const current = chat(Number(chatId));
    for (const view of saved.messages) current.messages.set(view.id, view);
    current.keyboard = saved.keyboard;
  }
  const remembered = Number(localStorage.getItem("sandbox.persona"));
  const known = state.personas.some((p) => p.chat_id === remembered);
  state.active = known ? remembered : state.personas[0].chat_id;
  setStatus("");
  drawChrome();
}

function onMessage(event) {
  chat(event.chat_id).messages.set(event.message.id, event.message);
  if (event.chat_id !== state.active) {
    if (!event.message.out) state.unread.set(event.chat_id, (state.unread.get(event.chat_id) || 0) + 1);
    drawPersonas();
    return;
  }
  const messages = $("messages");
  const hint = messages.querySelector(".system.hint");
  if (hint) hint.remove();
  messages.append(messageElement(event.chat_id, event.message));
  scrollDown();
}

function onEdit(event) {
  chat(event.chat_id).messages.set(event.message.id, event.message);
  const old = event.chat_id === state.active && $(`message-${event.message.id}`);
  if (old) old.replaceWith(messageElement(event.chat_id, event.message));
}

function onDelete(event) {
  chat(event.chat_id).messages.delete(event.message_id);
  const old = event.chat_id === state.active && $(`message-${event.message_id}`);
  if (old) old.remove();
}

function onProblem(event) {
  const text = t("problem") + event.text;
  if (event.chat_id === state.active || event.chat_id === null) {
    $("messages").append(systemLine(text, "problem"));
    scrollDown();
  } else {
    showToast(text, false);
  }
}

function showToast(text, alert) {
  if (alert) {
    $("alert-text").textContent = text;
    $("alert").hidden = false;
    $("alert-ok").focus();
    return;
  }
  const toast = document.createElement("div");
  toast.className = "toast";
  toast.textContent = text;
  $("toasts").append(toast);
  setTimeout(() => toast.remove(), 3000);
}

function setStatus(text) {
  $("status").textContent = text;
}

// -- what the person does --------------------------------------------------------------------
function send(action) {
  if (!state.socket || state.socket.readyState !== WebSocket.OPEN || state.active === null) return;
  state.socket.send(JSON.stringify({ ...action, chat_id: state.active, language: state.lang }));
}

function sendText(text) {
  if (text.trim()) send({ type: "send", text });
}

function press(chatId, messageId, data) {
  if (chatId === state.active) send({ type: "press", message_id: messageId, data });
}

async function upload(file) {
  const form = new FormData();
  form.append("chat_id", String(state.active));
  form.append("language", state.lang);
  form.append("file", file, file.name);
  try {
    const response = await fetch("/upload", { method: "POST", body: form });
    if (!response.ok) throw new Error(String(response.status));
  } catch (error) {
    showToast(t("uploadFailed"), false);
  }
}

function connect() {
  setStatus(t("connecting"));
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  state.socket = socket;
  socket.addEventListener("message", (message) => onEvent(JSON.parse(message.data)));
  socket.addEventListener("close", () => {
    setStatus(t("offline"));
    setTimeout(connect, 1000);
  });
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("text-input");
  sendText(input.value);
  input.value = "";
});
$("file-input").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) upload(file);
  event.target.value = "";
});
$("lang-toggle").addEventListener("click", () => {
  state.lang = state.lang === "zh" ? "en" : "zh";
  localStorage.setItem("sandbox.lang", state.lang);
  drawChrome();
});
$("alert-ok").addEventListener("click", () => { $("alert").hidden = true; });

drawChrome();
connect();
