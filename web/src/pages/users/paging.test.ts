import { describe, expect, it } from "vitest";
import { shouldStepBack } from "./paging";

// A page after the first emptied by deleting its last row steps back one
// page instead of showing the empty text (R18's lists, paged).
describe("shouldStepBack", () => {
  it("steps back from an emptied later page while rows remain", () => {
    expect(shouldStepBack(1, 0, 25)).toBe(true);
    expect(shouldStepBack(3, 0, 1)).toBe(true);
  });
  it("stays on the first page, on a page with rows, and when nothing is left", () => {
    expect(shouldStepBack(0, 0, 0)).toBe(false);
    expect(shouldStepBack(0, 0, 5)).toBe(false);
    expect(shouldStepBack(1, 3, 28)).toBe(false);
    expect(shouldStepBack(1, 0, 0)).toBe(false);
    expect(shouldStepBack(1, 0, undefined)).toBe(false);
  });
});
