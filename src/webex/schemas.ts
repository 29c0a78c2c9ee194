/**
 * zod schemas of the Webex REST resources the toolkit reads. Only the fields we use are required; every other field
 * passes through untouched (Webex adds fields over time).
 */
import * as z from 'zod';

/** A Webex person (`GET /people/me`, `GET /people/{id}`). */
export const personSchema = z.looseObject({
  id: z.string().min(1),
  emails: z.array(z.string()),
  displayName: z.string(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  nickName: z.string().optional(),
  avatar: z.string().optional(),
  orgId: z.string().optional(),
  type: z.string().optional(),
  created: z.string().optional(),
});
/** A Webex person. */
export type Person = z.infer<typeof personSchema>;

/** A Webex room (space). */
export const roomSchema = z.looseObject({
  id: z.string().min(1),
  title: z.string(),
  type: z.string(),
  isLocked: z.boolean().optional(),
  teamId: z.string().optional(),
  lastActivity: z.string().optional(),
  creatorId: z.string().optional(),
  created: z.string().optional(),
});
/** A Webex room (space). */
export type Room = z.infer<typeof roomSchema>;

/** A Webex membership (a person in a room). */
export const membershipSchema = z.looseObject({
  id: z.string().min(1),
  roomId: z.string().min(1),
  personId: z.string().optional(),
  personEmail: z.string().optional(),
  personDisplayName: z.string().optional(),
  isModerator: z.boolean().optional(),
  created: z.string().optional(),
});
/** A Webex membership. */
export type Membership = z.infer<typeof membershipSchema>;

/** A Webex message. */
export const messageSchema = z.looseObject({
  id: z.string().min(1),
  roomId: z.string().optional(),
  roomType: z.string().optional(),
  text: z.string().optional(),
  markdown: z.string().optional(),
  html: z.string().optional(),
  personId: z.string().optional(),
  personEmail: z.string().optional(),
  parentId: z.string().optional(),
  created: z.string().optional(),
});
/** A Webex message. */
export type Message = z.infer<typeof messageSchema>;

/** A list page: `{ "items": [...] }`. */
export const listSchema = <T extends z.ZodType>(item: T) => z.looseObject({ items: z.array(item) });

/** Body of `POST /memberships`: `roomId` and one of `personId`/`personEmail`. */
export interface CreateMembership {
  roomId: string;
  personId?: string;
  personEmail?: string;
  isModerator?: boolean;
}

/** Body of `POST /messages`: exactly one of `roomId`/`toPersonId`/`toPersonEmail`, plus `text` and/or `markdown`. */
export interface CreateMessage {
  roomId?: string;
  toPersonId?: string;
  toPersonEmail?: string;
  text?: string;
  markdown?: string;
  parentId?: string;
  files?: string[];
}
