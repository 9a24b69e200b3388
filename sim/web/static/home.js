// chaosdrill game days: the front page's form (the server's key is in a same-site cookie).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("create");

  function roles() {
    const found = {};
    document.querySelectorAll("tr[data-role]").forEach((row) => {
      if (!row.querySelector(".role-on").checked) return;
      found[row.dataset.role] = [...row.querySelectorAll(".right:checked")].map((c) => c.value);
    });
    return found;
  }

  // another role: a row like the others, with only `look` and `chat` to start with
  $("add-role-button").addEventListener("click", () => {
    const name = $("new-role").value.trim().toLowerCase();
    $("create-error").textContent = "";
    if (!/^[a-z][a-z0-9-]{0,23}$/.test(name) || name === "facilitator") {
      $("create-error").textContent = "a role name: lower-case letters, digits and dashes, up to 24, starting with a letter";
      return;
    }
    if (document.querySelector(`tr[data-role="${name}"]`)) {
      $("create-error").textContent = `there is a role ${name} already`;
      return;
    }
    const template = document.querySelector("tr[data-role]");
    const row = template.cloneNode(true);
    row.dataset.role = name;
    const label = row.querySelector("label");
    label.replaceChildren(label.querySelector("input"), ` ${name}`);
    label.querySelector("input").checked = true;
    row.querySelectorAll(".right").forEach((c) => {
      c.checked = c.value === "look" || c.value === "chat";
      c.setAttribute("aria-label", `${name} may ${c.value}`);
    });
    template.parentElement.append(row);
    $("new-role").value = "";
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    $("create-error").textContent = "";
    $("create-button").disabled = true;
    const chosen = $("scenario").value;
    const level = chosen.startsWith("random:") ? chosen.slice("random:".length) : null;
    const scenario = level ? "" : chosen;
    const payload = {
      scenario: scenario || null,
      random: !scenario,
      difficulty: level,
      seed: Number($("seed").value || 0),
      speed: Number($("speed").value),
      roles: roles(),
    };
    try {
      const response = await fetch("/api/gamedays", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        const detail = typeof data.detail === "string" ? data.detail
          : (data.detail || []).map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
        throw new Error(detail || `error ${response.status}`);
      }
      $("created-id").textContent = data.id;
      $("facilitator-link").href = data.facilitator;
      const list = $("join-links");
      list.replaceChildren();
      for (const [role, link] of Object.entries(data.join)) {
        const li = document.createElement("li");
        const name = document.createElement("span");
        name.className = "pill";
        name.textContent = role;
        const input = document.createElement("input");
        input.readOnly = true;
        input.value = link;
        input.setAttribute("aria-label", `join link for ${role}`);
        li.append(name, " ", input);
        list.append(li);
      }
      $("created").hidden = false;
    } catch (err) {
      $("create-error").textContent = err.message;
    } finally {
      $("create-button").disabled = false;
    }
  });
})();
