import { parseDevice, type DeviceInfo } from '../../auth/device.js';
import type { Identity } from '../../context.js';
import { builder } from '../builder.js';
import { SessionRef } from '../auth/types.js';

export const DeviceRef = builder.objectRef<DeviceInfo>('Device').implement({
  description: 'The device of a session, parsed from the User-Agent it was created with.',
  fields: (t) => ({
    browser: t.exposeString('browser', { nullable: true, description: 'Browser name, such as Chrome.' }),
    os: t.exposeString('os', { nullable: true, description: 'Operating system and version, such as iOS 17.0.' }),
    type: t.exposeString('type', {
      nullable: true,
      description: 'mobile, tablet, console, smarttv, wearable, xr, embedded or desktop; null when unknown.',
    }),
  }),
});

builder.objectField(SessionRef, 'device', (t) =>
  t.field({ type: DeviceRef, resolve: (session) => parseDevice(session.userAgent) }),
);

export const IdentityRef = builder.objectRef<Identity>('Identity').implement({
  description: 'The caller named by the verified access token.',
  fields: (t) => ({
    userId: t.exposeID('userId'),
    sessionId: t.exposeID('sessionId'),
  }),
});
