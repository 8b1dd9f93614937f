// Progressive enhancement for the compose forms (templates/compose/_macros.html lists the hooks).
// Every form also works without this file; the server checks everything again.
(function () {
  "use strict";

  const PREVIEW_DELAY_MS = 350;

  function csrfToken(form) {
    const field = form && form.querySelector("input[name='csrf_token']");
    return field ? field.value : "";
  }

  // --- Markdown preview, rendered by the server's own renderer -------------------------------
  function setUpPreview(form) {
    const source = form.querySelector("[data-preview-source]");
    const target = form.querySelector("[data-preview-target]");
    if (!source || !target) return;
    const markdownBox = form.querySelector("[data-preview-markdown]");
    const placeholder = target.innerHTML;
    let timer = null;
    let latest = 0;

    async function refresh() {
      const request = ++latest;
      if (!source.value.trim()) {
        target.innerHTML = placeholder;
        return;
      }
      const body = new FormData();
      body.append("message", source.value);
      // The message is rendered as it will be saved: as Markdown only when the box is ticked.
      if (markdownBox) body.append("editor", markdownBox.checked ? "markdown" : "plain");
      try {
        const response = await fetch(source.dataset.previewUrl, {
          method: "POST",
          body: body,
          headers: { "X-CSRFToken": csrfToken(form) },
          credentials: "same-origin",
        });
        // The answer is HTML sanitised by the server (nh3), the same the ticket page shows.
        if (response.ok && request === latest) target.innerHTML = await response.text();
      } catch (error) {
        // Offline or refused: the preview stays as it was; submitting still works.
      }
    }

    source.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, PREVIEW_DELAY_MS);
    });
    if (markdownBox) {
      markdownBox.addEventListener("change", function () {
        clearTimeout(timer);
        refresh();
      });
    }
    if (source.value.trim()) refresh();
  }

  // --- Attachments: checked before upload, drag and drop, a list of chosen files -------------
  // The input keeps every file chosen so far: choosing or dropping more adds to them (a
  // browser's own picker would replace them), and each listed file has a Remove button.
  function setUpAttachments(form) {
    const input = form.querySelector("[data-attachment-input]");
    if (!input || typeof DataTransfer === "undefined") return input ? { input: input } : null;
    const allowed = input.dataset.allowedExtensions.split(",").filter(Boolean);
    const maxBytes = Number(input.dataset.maxBytes);
    const problems = form.querySelector("[data-attachment-problems]");
    const list = form.querySelector("[data-chosen-files]");
    const dropzone = form.querySelector("[data-dropzone]");
    const note = form.querySelector("[data-dropzone-note]");
    let chosen = [];

    function problemWith(file) {
      const name = file.name;
      const dot = name.lastIndexOf(".");
      const extension = dot > 0 ? name.slice(dot).toLowerCase() : "";
      if (!allowed.includes(extension)) {
        return "The file " + name + " is not allowed. Allowed file extensions: " + allowed.join(", ");
      }
      if (file.size > maxBytes) {
        return "The file " + name + " is larger than the " + input.dataset.maxSizeLabel + " limit";
      }
      return null;
    }

    function sameFile(one, other) {
      return one.name === other.name && one.size === other.size && one.lastModified === other.lastModified;
    }

    function sizeLabel(bytes) {
      if (bytes < 1024) return bytes + " B";
      if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
      return (bytes / (1024 * 1024)).toFixed(1) + " MB";
    }

    // The input's files become `chosen`; the list shows them, each with its Remove button.
    function show() {
      const kept = new DataTransfer();
      for (const file of chosen) kept.items.add(file);
      input.files = kept.files;
      list.replaceChildren(...chosen.map(function (file, index) {
        const item = document.createElement("li");
        const name = document.createElement("span");
        name.className = "file-name";
        name.textContent = file.name;
        const size = document.createElement("span");
        size.className = "file-size";
        size.textContent = sizeLabel(file.size);
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button-secondary";
        remove.textContent = "Remove";
        remove.setAttribute("aria-label", "Remove " + file.name);
        remove.addEventListener("click", function () {
          chosen.splice(index, 1);
          show();
          (list.querySelector("button") || input).focus();
        });
        item.append(name, " ", size, " ", remove);
        return item;
      }));
      list.hidden = chosen.length === 0;
    }

    // Adds the acceptable new files to the choice and says which were left out and why.
    function add(files) {
      const messages = [];
      for (const file of files) {
        const problem = problemWith(file);
        if (problem) messages.push(problem);
        else if (!chosen.some(function (known) { return sameFile(known, file); })) chosen.push(file);
      }
      problems.replaceChildren(...messages.map(function (message) {
        const paragraph = document.createElement("p");
        paragraph.textContent = message;
        return paragraph;
      }));
      show();
    }

    input.addEventListener("change", function () {
      add(Array.from(input.files));
    });

    // Dropping needs a mouse; on touch screens the note stays hidden (portal.css agrees).
    const canDrop = window.matchMedia("(hover: hover) and (pointer: fine)").matches;
    if (dropzone && canDrop) {
      if (note) note.hidden = false;
      dropzone.addEventListener("dragover", function (event) {
        event.preventDefault();
        dropzone.classList.add("is-dragging");
      });
      dropzone.addEventListener("dragleave", function () {
        dropzone.classList.remove("is-dragging");
      });
      dropzone.addEventListener("drop", function (event) {
        event.preventDefault();
        dropzone.classList.remove("is-dragging");
        add(Array.from(event.dataTransfer.files));
      });
    }
    return { input: input };
  }

  // --- Department: swap in its custom fields, keeping what was typed elsewhere ---------------
  function setUpDepartment(form) {
    const select = form.querySelector("[data-department-select]");
    const container = form.querySelector("[data-custom-fields]");
    if (!select || !container) return;
    // Fields already filled in for a department come back as they were when it is chosen again.
    const kept = new Map();
    let current = select.value;
    select.addEventListener("change", async function () {
      const chosen = select.value;
      kept.set(current, Array.from(container.childNodes));
      current = chosen;
      if (kept.has(chosen)) {
        container.replaceChildren(...kept.get(chosen));
        return;
      }
      const url = new URL(select.dataset.fieldsUrl, window.location.href);
      url.searchParams.set("deptid", chosen);
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) throw new Error("custom fields not loaded");
        const html = await response.text();
        if (current !== chosen) return;
        const parsed = new DOMParser().parseFromString(html, "text/html");
        container.replaceChildren(...Array.from(parsed.body.childNodes));
      } catch (error) {
        // Let the server re-render the form for the new department instead.
        submitWith(form, "change_department");
      }
    });
  }

  function submitWith(form, action) {
    const field = document.createElement("input");
    field.type = "hidden";
    field.name = "action";
    field.value = action;
    form.appendChild(field);
    HTMLFormElement.prototype.submit.call(form);
  }

  // --- Submitting: the whole form by XHR, for a progress bar --------------------------------
  function setUpSubmit(form, attachments) {
    const progressBox = form.querySelector("[data-upload-progress]");
    const progress = progressBox && progressBox.querySelector("progress");
    // Read the attribute: form.action would be the buttons named "action".
    const target = new URL(form.getAttribute("action") || "", window.location.href);
    let sending = false;

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sending) return;
      // Enter in a text box "clicks" the first submit button, which may be a hidden fallback.
      const submitter = event.submitter;
      const action = submitter && !submitter.hidden && submitter.name === "action"
        ? submitter.value : "submit";
      const data = new FormData(form);
      data.set("action", action);
      const request = new XMLHttpRequest();
      request.open("POST", target.href);
      if (progressBox && attachments && attachments.input.files.length) {
        progressBox.hidden = false;
        request.upload.addEventListener("progress", function (progressEvent) {
          if (progressEvent.lengthComputable) {
            progress.value = Math.round((progressEvent.loaded / progressEvent.total) * 100);
          }
        });
      }
      request.addEventListener("load", function () {
        sending = false;
        const landed = new URL(request.responseURL || target.href, window.location.href);
        if (request.status < 300 && landed.pathname !== target.pathname) {
          // Done: the server redirected to the confirmation or the ticket. A page carrying a
          // one-time message is shown as received, since loading it again would lose it.
          if (/class="flash /.test(request.responseText)) {
            window.history.replaceState(null, "", landed.href);
            showPage(request.responseText);
            window.scrollTo(0, 0);
            return;
          }
          window.location.assign(landed.href);
          return;
        }
        showPage(request.responseText);
      });
      request.addEventListener("error", function () {
        sending = false;
        if (progressBox) progressBox.hidden = true;
        // The network failed mid-upload; a plain submission reports what the server says.
        HTMLFormElement.prototype.submit.call(form);
      });
      sending = true;
      request.send(data);
    });
  }

  // Shows the form the server sent back (with its errors and the held files) in place.
  function showPage(html) {
    const parsed = new DOMParser().parseFromString(html, "text/html");
    const main = parsed.querySelector("main");
    if (main && document.querySelector("main")) {
      document.title = parsed.title;
      document.querySelector("main").replaceWith(document.adoptNode(main));
    } else {
      document.body.replaceWith(document.adoptNode(parsed.body));
    }
    initialise(document);
  }

  function initialise(root) {
    for (const element of root.querySelectorAll("[data-js-hidden]")) element.hidden = true;
    for (const form of root.querySelectorAll("form[data-compose]")) {
      setUpPreview(form);
      setUpDepartment(form);
      setUpSubmit(form, setUpAttachments(form));
    }
    const summary = root.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  }

  initialise(document);
})();
