// Progressive enhancement only: every page works without JavaScript.
// A <select data-autosubmit> sends its form on change, so its "Apply" button can hide.
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  const form = select.form;
  if (!form) return;
  form.classList.add("js-autosubmit");
  select.addEventListener("change", () => form.requestSubmit());
});
