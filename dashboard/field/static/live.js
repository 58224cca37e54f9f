// Live: the Socket.IO connection joins the rooms of this person's scope (dashboard/realtime.py); any incident
// event re-reads the boxes, and a grown 待办 vibrates. Waking the phone (visibilitychange) re-syncs everything.
import {t} from "./i18n.js";
import {toast} from "./ui.js";

let socket = null;

export function connectLive(refresh) {
  if (socket || !window.io) return;
  socket = window.io(window.location.origin, {path: "/socket.io", transports: ["websocket"]});
  const mark = on => document.getElementById("m-net").classList.toggle("m-live", on);
  socket.on("connect", () => { mark(true); refresh(); });
  socket.on("disconnect", () => mark(false));
  socket.on("incident", () => refresh());
}

export function disconnectLive() {
  if (socket) socket.disconnect();
  socket = null;
}

export function newTasks(before, after) {
  if (before === null || after <= before) return;  // the first reading after signing in is not news
  if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
  toast(`${t("m_new_task")} (${after})`);
}
