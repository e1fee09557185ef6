// The "users" page's words.
export const en = {
  title: "users",
};

export const de: typeof en = {
  title: "users",
};
