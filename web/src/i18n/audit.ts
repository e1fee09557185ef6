// The "audit" page's words.
export const en = {
  title: "audit",
};

export const de: typeof en = {
  title: "audit",
};
