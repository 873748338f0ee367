// Progressive enhancement only: every page works without this script.
"use strict";

// Sort and page-size menus apply as soon as they change.
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});

// Filter a long facet list as you type (the form still works server-side without JS).
document.querySelectorAll("input[data-filter-list]").forEach((input) => {
  const list = document.getElementById(input.dataset.filterList);
  if (!list) return;
  const filter = () => {
    const wanted = input.value.trim().toLowerCase();
    list.querySelectorAll("li").forEach((item) => {
      item.hidden = wanted !== "" && !item.textContent.toLowerCase().includes(wanted);
    });
  };
  input.addEventListener("input", filter);
});

// A text longer than the search box takes (a paragraph, a draft) is no query: it goes to
// 查找先例 in the body of a POST, with the filters the box keeps, never in a URL.
document.querySelectorAll("form[data-long-text]").forEach((form) => {
  const box = form.querySelector("input[name='q']");
  box.addEventListener("paste", (event) => {
    const pasted = event.clipboardData.getData("text/plain");
    const text = box.value.slice(0, box.selectionStart) + pasted + box.value.slice(box.selectionEnd);
    if (text.length <= box.maxLength) return;
    event.preventDefault();
    const post = document.createElement("form");
    post.method = "post";
    post.action = form.dataset.longText;
    post.hidden = true;
    const field = (name, value) => {
      const input = document.createElement("textarea");  // keeps the line breaks between paragraphs
      input.name = name;
      input.value = value;
      post.appendChild(input);
    };
    field("text", text);
    field("from", "search");
    form.querySelectorAll("input[type='hidden']").forEach((kept) => field(kept.name, kept.value));
    document.body.appendChild(post);
    post.submit();
  });
});

// Count the characters of a text box against its limit as they are typed or pasted.
document.querySelectorAll("textarea[data-count]").forEach((box) => {
  const counter = document.getElementById(box.dataset.count);
  const count = () => { counter.textContent = `${box.value.length} / ${box.maxLength} 字`; };
  box.addEventListener("input", count);
  count();
});

// Mark the paragraphs of a reply that earlier replies said already, each linked to the
// oldest of them (the list under the text names them all).
document.querySelectorAll(".reuse li[data-paragraph]").forEach((item) => {
  const paragraph = document.getElementById(`p-${item.dataset.paragraph}`);
  const oldest = item.querySelector("a[data-earlier]");
  if (!paragraph || !oldest) return;
  paragraph.classList.add("reused");
  const link = document.createElement("a");
  link.className = "reused-link";
  link.dataset.ui = "";
  link.href = oldest.href;
  link.textContent = "此前已见";
  link.title = `见于：${oldest.textContent}`;
  paragraph.appendChild(link);
});

// The text of a passage as a reader sees it, without what this script added to it (its
// buttons and links, marked data-ui): paragraphs apart by a blank line, other blocks on
// lines of their own, table cells apart by tabs.
const PARAGRAPHS = new Set(["P", "BLOCKQUOTE", "H1", "H2", "H3", "H4", "H5", "H6", "TABLE", "UL", "OL", "PRE"]);
const LINES = new Set(["LI", "TR", "DIV", "SECTION", "ARTICLE"]);
const textOf = (node) => {
  if (node.nodeType === Node.TEXT_NODE) return node.data.replace(/\s+/g, " ");
  if (node.nodeType === Node.ELEMENT_NODE && node.hasAttribute("data-ui")) return "";
  const inner = Array.from(node.childNodes, textOf).join("");
  if (node.nodeType !== Node.ELEMENT_NODE) return inner;
  if (PARAGRAPHS.has(node.tagName)) return `\n\n${inner}\n\n`;
  if (LINES.has(node.tagName)) return `\n${inner}\n`;
  if (node.tagName === "TD" || node.tagName === "TH") return `${inner}\t`;
  if (node.tagName === "BR") return "\n";
  return inner;
};
const plainText = (node) => textOf(node).replace(/[ \t]*\n[ \t]*/g, "\n").replace(/\n{3,}/g, "\n\n").trim();

// Copy a passage with its citation: the drafting staff's main gesture.
const addCopyButton = (passage, citation, label, description) => {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.dataset.ui = "";
  button.textContent = label;
  if (description) button.setAttribute("aria-label", description);
  button.addEventListener("click", async () => {
    const copied = `${plainText(passage)}\n（引自：${citation}）`;
    try {
      await navigator.clipboard.writeText(copied);
      button.textContent = "已复制";
    } catch (error) {
      button.textContent = "复制失败，请手动选择文字";
    }
    setTimeout(() => { button.textContent = label; }, 2500);
  });
  passage.appendChild(button);
};
const documentBody = document.querySelector(".document[data-citation]");
if (documentBody) {
  // Body paragraphs only: not the headings, nor the signature and date that close the reply.
  documentBody.querySelectorAll(":scope > p[id^='p-']:not(.signature)").forEach((paragraph) => {
    addCopyButton(paragraph, `${documentBody.dataset.citation}#${paragraph.id}`, "复制并引用", "复制本段并附引用信息");
  });
}
document.querySelectorAll("[data-copy-citation]").forEach((passage) => {
  addCopyButton(passage, passage.dataset.copyCitation, "复制（含出处）");
});

// A selection copied by hand (Ctrl+C, the context menu) leaves out what this script added
// inside the selected passages; any other selection is copied as the browser does.
document.addEventListener("copy", (event) => {
  const selection = document.getSelection();
  if (!selection || selection.isCollapsed || !event.clipboardData) return;
  const selected = document.createElement("div");
  for (let i = 0; i < selection.rangeCount; i += 1) selected.append(selection.getRangeAt(i).cloneContents());
  const added = selected.querySelectorAll("[data-ui]");
  if (added.length === 0) return;
  added.forEach((element) => element.remove());
  event.clipboardData.setData("text/plain", plainText(selected));
  event.clipboardData.setData("text/html", selected.innerHTML);
  event.preventDefault();
});

// Step through the marked matches of a search inside a reply.
const nav = document.querySelector(".match-nav[data-matches]");
const total = nav ? Number(nav.dataset.matches) : 0;
if (total > 0) {
  let current = 0;
  const counter = document.createElement("span");
  counter.className = "match-counter";
  const go = (step) => {
    current = ((current - 1 + step + total) % total) + 1;
    const mark = document.getElementById(`m-${current}`);
    document.querySelectorAll("mark.current").forEach((m) => m.classList.remove("current"));
    mark.classList.add("current");
    mark.scrollIntoView({ block: "center" });
    counter.textContent = `第 ${current} / ${total} 处`;
  };
  const button = (label, step) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", () => go(step));
    return b;
  };
  nav.append(" ", button("上一处", -1), button("下一处", 1), " ", counter);
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select")) return;
    if (event.key === "n") go(1);
    if (event.key === "p") go(-1);
  });
}

// On a narrow screen the views, sorting and facets of a search are a panel that the 筛选
// button opens over the results. In the page, the button and the panel's 关闭 are links to
// the panel and back, which open and close it (as their target) without this script.
const panel = document.getElementById("facets");
const toggleLink = document.querySelector("a.facets-toggle[href='#facets']");
if (panel && toggleLink) {
  const asButton = (link) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = link.className;
    button.textContent = link.textContent;
    link.replaceWith(button);
    return button;
  };
  const toggle = asButton(toggleLink);
  toggle.setAttribute("aria-controls", panel.id);
  toggle.setAttribute("aria-expanded", "false");
  const close = asButton(panel.querySelector("a.panel-close"));
  const title = panel.querySelector(".panel-bar [tabindex='-1']");
  const narrow = () => getComputedStyle(toggle).display !== "none";  // the button shows only then
  const isOpen = () => panel.classList.contains("open");
  const open = () => {
    panel.classList.add("open");
    toggle.setAttribute("aria-expanded", "true");
    title.focus();
  };
  const shut = (refocus) => {
    panel.classList.remove("open");
    toggle.setAttribute("aria-expanded", "false");
    // The panel is also shown as the page's target: drop the #facets the address may hold.
    if (window.location.hash === `#${panel.id}`) {
      window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search);
    }
    if (refocus) toggle.focus();
  };
  toggle.addEventListener("click", () => (isOpen() ? shut(true) : open()));
  close.addEventListener("click", () => shut(true));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && isOpen()) {
      event.preventDefault();
      shut(true);
    }
  });
  // Tabbing out of the panel leaves it: it closes rather than hide the focus behind it.
  panel.addEventListener("focusout", (event) => {
    if (isOpen() && event.relatedTarget && !panel.contains(event.relatedTarget)) shut(false);
  });
  // 跳到筛选 and any other link to the panel open it too.
  document.querySelectorAll(`a[href='#${panel.id}']`).forEach((link) => {
    link.addEventListener("click", (event) => {
      if (!narrow()) return;
      event.preventDefault();
      open();
    });
  });
  if (window.location.hash === `#${panel.id}` && narrow()) open();
}
