/** A Webex message as the space page shows it: who, when, and its body rendered to safe HTML. */
import type { Message } from '../../webex/schemas.js';
import type { SpaceMessage } from '../views/space.js';
import { renderMessageBody } from './markdown.js';

/** `2026-11-23 09:05 UTC` from an ISO time; anything else as given. */
export function shortTime(iso: unknown): string {
  return typeof iso === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(iso)
    ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
    : String(iso ?? '');
}

/** The view of one Webex message. */
export async function spaceMessage(m: Message): Promise<SpaceMessage> {
  return {
    id: m.id,
    who: String(m.personEmail ?? ''),
    created: shortTime(m.created),
    body: await renderMessageBody(m),
  };
}
