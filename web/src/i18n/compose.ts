// The "compose" page's words.
export const en = {
  title: "compose",
};

export const de: typeof en = {
  title: "compose",
};
