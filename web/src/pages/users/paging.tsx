import { Button, Group, Text } from "@mantine/core";
import { useState } from "react";
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
    prev: () => setStack((s) => s.slice(0, -1)),
    reset: () => setStack([]),
  };
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
