// The "mailServer" page's words.
export const en = {
  title: "mailServer",
};

export const de: typeof en = {
  title: "mailServer",
};
