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

// Copy a passage with its citation: the drafting staff's main gesture. What this script
// added to the passage (its buttons and links, marked data-ui) is not copied.
const addCopyButton = (passage, citation, label, description) => {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.dataset.ui = "";
  button.textContent = label;
  if (description) button.setAttribute("aria-label", description);
  button.addEventListener("click", async () => {
    const text = passage.cloneNode(true);
    text.querySelectorAll("[data-ui]").forEach((added) => added.remove());
    const copied = `${text.textContent.trim()}\n（引自：${citation}）`;
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
  documentBody.querySelectorAll("p[id^='p-']").forEach((paragraph) => {
    addCopyButton(paragraph, `${documentBody.dataset.citation}#${paragraph.id}`, "复制并引用", "复制本段并附引用信息");
  });
}
document.querySelectorAll("[data-copy-citation]").forEach((passage) => {
  addCopyButton(passage, passage.dataset.copyCitation, "复制（含出处）");
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
