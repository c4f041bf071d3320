// The admin's forms carry `novalidate`, so a mistyped price ("10 €") or too many photos went to
// the server, whose refusal came back without the photos chosen in the form (no page may fill a
// file input; more photos than the server takes even got a bare "Bad Request"). Before the form
// leaves, check what the inputs say they accept: a pattern (catalog.forms.PriceInput) and a most
// number of files (catalog.forms.MultipleFileInput), and keep the form as it is when one is
// wrong. The server still checks everything.
function tooManyFiles(input) {
  const most = Number(input.dataset.maxFiles);
  const wrong = input.files.length > most;
  input.setCustomValidity(wrong ? input.dataset.maxFilesMessage.replace("%(count)d", most) : "");
  return wrong;
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  const files = [...form.querySelectorAll("input[type=file][data-max-files]")];
  const wrong =
    files.find(tooManyFiles) ||
    [...form.querySelectorAll("input[pattern]")].find((input) => !input.checkValidity());
  if (wrong) {
    event.preventDefault();
    wrong.reportValidity();
  }
});

// a new choice of photos clears the last refusal
document.addEventListener("change", (event) => {
  if (event.target.matches?.("input[type=file][data-max-files]")) tooManyFiles(event.target);
});
