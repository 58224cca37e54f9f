// Small DOM helpers shared by the views.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  node.append(...children.filter(c => c !== null && c !== undefined));
  return node;
}

let toastTimer = null;
export function toast(text) {
  const box = document.getElementById("m-toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
}

const VIEWS = ["login", "tasks", "detail", "report", "queue", "me"];
export function show(view) {
  VIEWS.forEach(v => { document.getElementById(`m-${v}`).hidden = v !== view; });
  const tab = view === "detail" ? "tasks" : view;
  document.querySelectorAll("[data-tab]").forEach(b => b.classList.toggle("m-on", b.dataset.tab === tab));
  document.getElementById("m-main").scrollTop = 0;
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const pad = n => String(n).padStart(2, "0");
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
