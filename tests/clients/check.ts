// A practice software team's TypeScript against the types openapi-typescript generates from
// openapi.yaml (tests/generated_clients.sh writes them to api.d.ts beside this file and runs
// `tsc --strict --noEmit`). It must type-check: plain typed objects, exhaustive enums, and
// unknown members refused as the API refuses them.
import type { components, paths } from "./api";

type Message = components["schemas"]["Message"];
type Send = paths["/v1/messages"]["post"];
type SendBody = Send["requestBody"]["content"]["application/json"];
type Sent = Send["responses"][202]["content"]["application/json"];
type Page = paths["/v1/messages"]["get"]["responses"][200]["content"]["application/json"];

export function isMessage(answer: Sent): answer is Message {
  return "id" in answer;
}

export function label(status: Message["status"]): string {
  switch (status) {
    case "pending":
      return "ausstehend";
    case "queued":
      return "noch kein Status";
    case "sent":
      return "versandt";
    case "buffered":
      return "buffered";
    case "delivered":
      return "zugestellt";
    case "undelivered":
      return "nicht ausgeliefert";
    default: {
      const unknown: never = status;
      return unknown;
    }
  }
}

export function describe(m: Message): string {
  const first = m.history[0];
  const shown: components["schemas"]["StatusText"] = m.status_text;
  const when: string = first ? first.at : m.created_at;
  return `${m.id} ${m.status} (${shown}) since ${when}, ${m.segments} part(s), reason ${m.reason ?? "-"}`;
}

export function next(page: Page): string | null {
  return page.next_cursor;
}

export const one: SendBody = { to: "0176 12345678", text: "Termin:\t19.08.", smart_encoding: true };
export const batch: SendBody = { messages: [{ to: "0176 12345678", text: "Hallo", reference: null }] };
// @ts-expect-error: a member the API does not know is refused by the document too
export const unknown: SendBody = { to: "0176 12345678", text: "Hallo", scheduled_at: "2026-12-01" };
