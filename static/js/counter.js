// The live character counter of every post text box (the composer, the reply box, the edit
// page): a `textarea[data-limit][data-counter]` names its limit (the plan's) and the element that
// shows what is left. The count updates as you type and warns near the limit ("near") and past
// it ("over"); screen readers hear it politely, once typing pauses, from a separate live region
// (announcing every keystroke would talk over the typing). The server enforces the limit. No
// inline code: the CSP allows only files served by the site.
(() => {
  const NEAR_SHARE = 0.1; // warn when a tenth of the limit is left (at least 20 characters)
  const ANNOUNCE_AFTER_MS = 800;

  const enhance = (text) => {
    const counter = document.getElementById(text.dataset.counter);
    const limit = Number(text.dataset.limit);
    if (!counter || !limit || text.dataset.counterReady) return;
    text.dataset.counterReady = "1";
    const near = Math.max(20, Math.round(limit * NEAR_SHARE));
    const described = (text.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(counter.id)) text.setAttribute("aria-describedby", [...described, counter.id].join(" "));
    const status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    status.id = `${counter.id}-status`;
    counter.after(status);
    let timer = 0;
    let announced = "";

    const count = () => {
      // Code points, as the server counts them (an emoji is one character, not two).
      const used = [...text.value].length;
      const left = limit - used;
      const plural = (n) => (n === 1 ? "" : "s");
      if (left < 0) {
        return { left, shown: `${used} / ${limit} · ${-left} too many`, said: `${-left} character${plural(-left)} too many` };
      }
      return { left, shown: `${used} / ${limit} · ${left} left`, said: `${left} character${plural(left)} left` };
    };

    const update = (announce) => {
      const { left, shown, said } = count();
      counter.textContent = shown;
      counter.classList.toggle("near", left >= 0 && left <= near);
      counter.classList.toggle("over", left < 0);
      window.clearTimeout(timer);
      if (!announce) return;
      timer = window.setTimeout(() => {
        // Only news: far from the limit the count is not worth an interruption.
        const say = left <= near ? said : "";
        if (say && say !== announced) status.textContent = say;
        announced = say;
      }, ANNOUNCE_AFTER_MS);
    };

    text.addEventListener("input", () => update(true));
    update(false);
  };

  const scan = (root) => root.querySelectorAll("textarea[data-limit][data-counter]").forEach(enhance);
  scan(document);
  // Boxes that htmx swaps in later get their counter too.
  document.addEventListener("htmx:load", (event) => scan(event.target));
})();
