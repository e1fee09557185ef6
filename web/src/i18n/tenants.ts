// The "tenants" page's words.
export const en = {
  title: "tenants",
};

export const de: typeof en = {
  title: "tenants",
};
