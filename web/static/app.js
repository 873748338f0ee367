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

// Copy one paragraph with its citation: the drafting staff's main gesture.
const documentBody = document.querySelector(".document[data-citation]");
if (documentBody) {
  documentBody.querySelectorAll("p[id^='p-']").forEach((paragraph) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "复制并引用";
    button.setAttribute("aria-label", "复制本段并附引用信息");
    button.addEventListener("click", async () => {
      const text = paragraph.cloneNode(true);
      text.querySelectorAll("button").forEach((b) => b.remove());
      const citation = documentBody.dataset.citation + "#" + paragraph.id;
      const copied = `${text.textContent.trim()}\n（引自：${citation}）`;
      try {
        await navigator.clipboard.writeText(copied);
        button.textContent = "已复制";
      } catch (error) {
        button.textContent = "复制失败，请手动选择文字";
      }
      setTimeout(() => { button.textContent = "复制并引用"; }, 2500);
    });
    paragraph.appendChild(button);
  });
}

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
