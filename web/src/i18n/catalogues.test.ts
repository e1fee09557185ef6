import { describe, expect, it } from "vitest";
import { resources } from "./index";

// Every word of the console exists in both languages (SPEC §6: German and
// English, switchable): the same keys in every namespace, none empty, the
// same {{placeholders}} in both. (The types already require the keys; this
// also catches an empty string or a dropped placeholder.) The end-to-end
// walk over every page in both languages catches a key used in a page but
// missing from the catalogues.
function flatten(o: object, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object") Object.assign(out, flatten(v as object, key));
    else out[key] = String(v);
  }
  return out;
}

const placeholders = (s: string) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

describe("the message catalogues", () => {
  const { de, en } = resources();
  it("have the same namespaces", () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
  });
  for (const ns of Object.keys(en)) {
    it(`${ns}: same keys, no empty text, same placeholders in German and English`, () => {
      const e = flatten(en[ns]);
      const d = flatten(de[ns] ?? {});
      expect(Object.keys(d).sort()).toEqual(Object.keys(e).sort());
      for (const [k, v] of Object.entries(e)) {
        expect(v.trim(), `en ${ns}:${k}`).not.toBe("");
        expect(d[k]?.trim(), `de ${ns}:${k}`).not.toBe("");
        expect(placeholders(d[k] ?? ""), `${ns}:${k}`).toEqual(placeholders(v));
      }
    });
  }
});
