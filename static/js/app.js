// Small progressive enhancements; every page works without JavaScript.
document.documentElement.classList.add("js");

// An in-place action in progress is busy for assistive technology too, and cannot be sent twice.
document.body.addEventListener("htmx:beforeRequest", (event) => {
  const elt = event.detail.elt;
  elt.setAttribute("aria-busy", "true");
  if (elt.tagName === "FORM") elt.querySelectorAll("button").forEach((b) => { b.disabled = true; });
});
document.body.addEventListener("htmx:afterRequest", (event) => {
  const elt = event.detail.elt;
  elt.removeAttribute("aria-busy");
  if (elt.tagName === "FORM") elt.querySelectorAll("button").forEach((b) => { b.disabled = false; });
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const target = document.querySelector(button.dataset.copy);
  if (!target) return;
  navigator.clipboard.writeText(target.value || target.textContent).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// Toasts: a view answering an htmx request with `HX-Trigger: {"toast": {"message", "level"}}`
// (or a failed htmx request) shows a short message in the live region at the bottom.
function showToast(message, level) {
  let region = document.getElementById("toasts");
  if (!region) return;
  const toast = document.createElement("div");
  toast.className = `toast toast-${level || "info"}`;
  toast.setAttribute("role", level === "error" ? "alert" : "status");
  toast.textContent = message;
  region.appendChild(toast);
  setTimeout(() => toast.remove(), 6000);
}
document.body.addEventListener("toast", (event) => {
  const detail = event.detail || {};
  if (detail.message) showToast(detail.message, detail.level);
});
document.body.addEventListener("htmx:responseError", (event) => {
  // The server's own toast (HX-Trigger) says more; this covers answers without one.
  if (!event.detail.xhr.getResponseHeader("HX-Trigger")) {
    showToast("That did not work. Please try again.", "error");
  }
});
document.body.addEventListener("htmx:sendError", () => showToast("No connection. Please try again.", "error"));

// Destructive actions confirm first: <form data-confirm="Delete this post?"> (no inline JS).
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
