import { PERMISSION_NAMES, toNames } from '../services/permissions.js';
import { builder } from './builder.js';
import { toGlobalId } from '../globalIds.js';

export const Permission = builder.enumType('Permission', {
  description: "Discord-style guild permissions; the owner has all, ADMINISTRATOR implies all.",
  values: PERMISSION_NAMES,
});

export const Role = builder.prismaObject('Role', {
  fields: (t) => ({
    id: t.id({ resolve: (role) => toGlobalId('Role', role.id) }),
    name: t.exposeString('name'),
    position: t.exposeInt('position', { description: 'Higher outranks lower; @everyone is 0.' }),
    permissions: t.field({ type: [Permission], resolve: (role) => toNames(role.permissions) }),
  }),
});
