// The composer (templates/social/_composer.html), enhanced: previews of the chosen images with a
// description box each (its character counter is static/js/counter.js, shared with the reply
// and edit boxes). The boxes write the one-line-per-image descriptions field the server reads,
// so the page works the same without JavaScript. No inline code: the CSP allows only files served by the site.
(() => {
  const form = document.querySelector("form[data-composer]");
  if (!form) return;

  // --- image previews with descriptions -------------------------------------------------------
  const input = form.querySelector("input[type=file][data-max-images]");
  const previews = input && document.getElementById(input.dataset.previews);
  const altField = form.querySelector("[data-alt-texts]");
  const altTexts = altField && altField.querySelector("textarea");
  const error = form.querySelector("[data-images-error]");
  if (!input || !previews || !altTexts || !error) return;
  const max = Number(input.dataset.maxImages);
  let urls = [];

  const syncAltTexts = () => {
    const boxes = previews.querySelectorAll("input[data-alt-index]");
    altTexts.value = [...boxes].map((box) => box.value.replace(/\s+/g, " ").trim()).join("\n");
  };

  const showError = (message) => {
    error.textContent = message;
    error.hidden = !message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
    if (message) input.setAttribute("aria-describedby", error.id);
    else input.removeAttribute("aria-describedby");
  };

  const render = () => {
    urls.forEach((url) => URL.revokeObjectURL(url));
    urls = [];
    previews.replaceChildren();
    const files = [...input.files];
    const earlier = altTexts.value.split("\n");
    showError(files.length > max ? `Choose at most ${max} images: you chose ${files.length}.` : "");
    altField.classList.toggle("enhanced", files.length > 0 && files.length <= max);
    if (files.length > max) return;
    files.forEach((file, index) => {
      const url = URL.createObjectURL(file);
      urls.push(url);
      const figure = document.createElement("figure");
      figure.className = "compose-preview";
      const image = document.createElement("img");
      image.src = url;
      image.alt = `Preview of ${file.name}`;
      const label = document.createElement("label");
      const id = `alt-text-${index}`;
      label.htmlFor = id;
      label.textContent = `Description of image ${index + 1}`;
      const box = document.createElement("input");
      box.type = "text";
      box.id = id;
      box.maxLength = 1000;
      box.dataset.altIndex = String(index);
      box.placeholder = "What does it show?";
      box.value = earlier[index] || "";
      box.addEventListener("input", syncAltTexts);
      figure.append(image, label, box);
      previews.append(figure);
    });
    syncAltTexts();
  };

  input.addEventListener("change", render);
  form.addEventListener("submit", (event) => {
    if (input.files.length > max) {
      event.preventDefault();
      input.focus();
    }
  });
})();
