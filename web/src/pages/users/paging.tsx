import { Button, Group, Text } from "@mantine/core";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

export const pageSize = 25;

// Pages of a Relay connection: the cursors of the pages before this one,
// so "previous" goes back and "next" goes on after endCursor.
export function useCursorPages() {
  const [stack, setStack] = useState<(string | null)[]>([]);
  const after = stack.length ? stack[stack.length - 1] : null;
  return {
    after,
    index: stack.length,
    next: (endCursor: string | null | undefined) => endCursor && setStack((s) => [...s, endCursor]),
    prev: useCallback(() => setStack((s) => s.slice(0, -1)), []),
    reset: () => setStack([]),
  };
}

// A page after the first that came back empty although the connection
// still has rows (its last row was just deleted): step back one page
// instead of showing the empty text.
export function shouldStepBack(index: number, shown: number, total: number | null | undefined): boolean {
  return index > 0 && shown === 0 && (total ?? 0) > 0;
}

// Steps pages back while shouldStepBack holds for the loaded page; returns
// whether it is stepping (show <Loading/>, not <Empty/>).
export function useStepBackWhenEmpty(pages: ReturnType<typeof useCursorPages>, shown: number, total: number | null | undefined, fetching: boolean): boolean {
  const step = !fetching && shouldStepBack(pages.index, shown, total);
  const { prev } = pages;
  useEffect(() => {
    if (step) prev();
  }, [step, prev]);
  return step;
}

export function Pager({
  pages,
  shown,
  total,
  hasNext,
  endCursor,
}: {
  pages: ReturnType<typeof useCursorPages>;
  shown: number;
  total: number;
  hasNext: boolean;
  endCursor: string | null | undefined;
}) {
  const { t } = useTranslation("users");
  const from = pages.index * pageSize;
  return (
    <Group justify="space-between" mt="sm">
      <Text size="sm" c="dimmed">
        {t("common:shownOf", { shown: shown ? `${from + 1}–${from + shown}` : "0", total })}
      </Text>
      <Group gap="xs">
        <Button variant="default" size="xs" disabled={pages.index === 0} onClick={pages.prev}>
          {t("previous")}
        </Button>
        <Button variant="default" size="xs" disabled={!hasNext} onClick={() => pages.next(endCursor)}>
          {t("next")}
        </Button>
      </Group>
    </Group>
  );
}
