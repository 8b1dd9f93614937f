// Open New Ticket: a live client list, and the chosen client's requestors and records.
// Without this script the form's Search and "Use selected client" buttons do the same.
// compose.js swaps in a fresh <main> when the server sends the form back, so every listener
// sits on the document and looks its elements up when it runs.
(function () {
  "use strict";

  const SEARCH_DELAY_MS = 250;
  let searchTimer = null;
  let latestSearch = 0;

  function byId(id) {
    return document.getElementById(id);
  }

  function radio(value, label) {
    const item = document.createElement("li");
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "clientid";
    input.id = value ? "client-" + value : "client-none";
    input.value = value;
    const text = document.createElement("label");
    text.htmlFor = input.id;
    text.textContent = label;
    item.append(input, " ", text);
    return item;
  }

  function showClients(clients) {
    const results = byId("client-results");
    const checked = results.querySelector("input[name=clientid]:checked");
    const keep = [byId("client-none").closest("li")];
    // The chosen client stays in the list even when the new search does not find it.
    if (checked && checked.value) keep.push(checked.closest("li"));
    results.replaceChildren(...keep);
    for (const client of clients) {
      if (!checked || String(client.id) !== checked.value) {
        results.append(radio(String(client.id), client.label));
      }
    }
    byId("client-search-status").textContent =
      clients.length + (clients.length === 1 ? " client" : " clients") + " found.";
  }

  async function search() {
    const query = byId("field-q");
    const text = query.value.trim();
    const number = ++latestSearch;
    if (!text) return;
    try {
      const url = new URL(query.dataset.searchUrl, window.location.href);
      url.searchParams.set("q", text);
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error("search failed: " + response.status);
      const data = await response.json();
      // An older, slower answer must not replace a newer one.
      if (number === latestSearch) {
        showClients(data.clients);
        // Enter then sends the ticket: the server would search again for a query not yet listed.
        document.querySelector("[data-results-for]").value = text;
      }
    } catch (error) {
      byId("client-search-status").textContent = "The search did not answer; try again.";
    }
  }

  function fillSelect(select, choices, selected, first) {
    select.replaceChildren(...first);
    for (const choice of choices) {
      select.append(new Option(choice.label, choice.value, false, choice.value === selected));
    }
  }

  async function chooseClient(clientId) {
    byId("client-details").hidden = !clientId;
    byId("non-client").hidden = Boolean(clientId);
    if (!clientId) return;
    const requestor = byId("field-requestor");
    const related = byId("field-related");
    const url = byId("field-clientid").dataset.choicesUrl
      .replace(/\/0\/choices$/, "/" + encodeURIComponent(clientId) + "/choices");
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error("choices failed: " + response.status);
      const data = await response.json();
      fillSelect(requestor, data.requestors, data.default_requestor, []);
      fillSelect(related, data.related, "", [related.options[0]]);
    } catch (error) {
      // Let the server redraw the form for the chosen client instead.
      const button = document.querySelector("button[name=action][value=choose]");
      button.hidden = false;
      button.click();
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.id !== "field-q") return;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, SEARCH_DELAY_MS);
  });

  document.addEventListener("keydown", function (event) {
    if (event.target.id === "field-q" && event.key === "Enter") {
      event.preventDefault();
      clearTimeout(searchTimer);
      search();
    }
  });

  // With the live list, the Search button searches in place instead of sending the form.
  document.addEventListener("click", function (event) {
    const button = event.target.closest("button[name=action][value=search]");
    if (!button || !byId("field-q")) return;
    event.preventDefault();
    clearTimeout(searchTimer);
    search();
  });

  document.addEventListener("change", function (event) {
    if (event.target.name === "clientid" && event.target.closest("#client-results")) {
      chooseClient(event.target.value);
    }
  });

  // Text typed before this script arrived (it is deferred) had no listener: search it now.
  const typed = byId("field-q");
  if (typed && typed.value.trim() && !document.querySelector("[data-results-for]")?.value) {
    search();
  }
})();
