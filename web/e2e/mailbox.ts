import type { Page } from "@playwright/test";

// The "Zusätzliche Postfächer" page's add dialog, as the mailbox specs and
// the seed 001 walk-through fill it.
export interface Flags {
  sender: boolean;
  replyTo: boolean;
  global: boolean;
  authenticated: boolean;
}

// fillAdd opens the add dialog and fills address, display name and the
// four check boxes; the caller adds settings and clicks Add.
export async function fillAdd(page: Page, address: string, name: string, f: Flags) {
  await page.getByRole("button", { name: "+ Add e-mail address" }).click();
  const dialog = page.getByRole("dialog", { name: "Add e-mail address" });
  await dialog.getByLabel("E-mail address").fill(address);
  await dialog.getByLabel("Display name").fill(name);
  for (const [label, on] of [
    ["Sender", f.sender],
    ["Reply", f.replyTo],
    ["Global", f.global],
    ["with authentication", f.authenticated],
  ] as const) {
    await dialog.getByRole("checkbox", { name: label, exact: true }).setChecked(on);
  }
  return dialog;
}
