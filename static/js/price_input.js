// The admin's forms carry `novalidate`, so a mistyped price ("10 €") went to the server, whose
// refusal came back without the photos chosen in the form: no page may fill a file input, and a
// bulk upload's dozens had to be chosen again. Check the inputs that say what they accept (a
// pattern: catalog.forms.PriceInput) before the form leaves, and keep it as it is when one is
// wrong. The server still checks everything.
document.addEventListener("submit", (event) => {
  const wrong = [...event.target.querySelectorAll("input[pattern]")].find(
    (input) => !input.checkValidity(),
  );
  if (wrong) {
    event.preventDefault();
    wrong.reportValidity();
  }
});
