import { emailField } from '../tools/fields.js';
import { definePrompt } from './define.js';

export default definePrompt({
  name: 'offboard_person',
  title: 'Offboard a person',
  description: 'Remove a person’s Zero Trust user (seats and sessions revoked): check who it is, plan, confirm, apply.',
  arguments: { email: emailField.describe('The email address of the person leaving') },
  tools: ['get_user_access_overview', 'offboard_access_users'],
  render: ({ email }) =>
    [
      `Offboard ${email} from this Cloudflare account. This deletes their Zero Trust user, revoking their seats and sessions, and cannot be undone.`,
      '',
      `1. Call get_user_access_overview with user_id "${email}" and sum up who this is (name, seats, active sessions, last login), so the person can be sure it is the right one.`,
      `2. Call offboard_access_users with users ["${email}"] and mode "plan". It changes nothing: it lists who would be removed, or says the email is unknown (then stop and say so).`,
      '3. Show the plan and ask the person to confirm here. Without a clear yes, stop.',
      '4. Call offboard_access_users with the same users and mode "apply". The server may ask the person to confirm again; if their client cannot be asked, pass confirm: true, and only because they said yes in step 3. If they decline, stop: nothing was removed.',
      '5. Report the outcome for each user.',
    ].join('\n'),
});
