// The "mailboxes" page's words.
export const en = {
  title: "mailboxes",
};

export const de: typeof en = {
  title: "mailboxes",
};
