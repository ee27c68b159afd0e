import { emailField } from '../tools/fields.js';
import { definePrompt } from './define.js';

export default definePrompt({
  name: 'investigate_access',
  title: 'Investigate a person’s access',
  description: 'What access does this person have: seats, active sessions with devices, IPs and countries, last sign-in, failed logins.',
  arguments: { email: emailField.describe('The person’s email address') },
  tools: ['get_user_access_overview', 'get_active_session'],
  render: ({ email }) =>
    [
      `Investigate what access ${email} has in this Cloudflare account. Read only: change nothing.`,
      '',
      `1. Call get_user_access_overview with user_id "${email}". One call returns the user (seats, devices, last login), every active session with device, IP and country, the last-seen identity and recent failed logins.`,
      '2. Only if one session needs more detail (posture checks, groups), call get_active_session with the user’s id and that session’s nonce.',
      '3. Answer in a few lines: who the person is and which seats they hold; active sessions (device, IP, country, expiry); where they last signed in; failed logins. Point out anything unusual: an unfamiliar country, many failures, many devices. If part of the overview is missing, say which part and why.',
      '',
      'If no user has this email, say so; do not guess another address.',
    ].join('\n'),
});
