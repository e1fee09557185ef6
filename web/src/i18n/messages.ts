// The "messages" page's words.
export const en = {
  title: "messages",
};

export const de: typeof en = {
  title: "messages",
};
