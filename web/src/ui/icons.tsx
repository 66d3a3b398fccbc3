// A few line icons as inline SVG (no icon font, no emoji font needed): the voice controls.
import type { ReactNode } from 'react';

function Icon({ children, size = 18 }: { children: ReactNode; size?: number }) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

const Slash = () => <path d="M4 4l16 16" />;

export const MicIcon = ({ off = false, size }: { off?: boolean; size?: number }) => (
  <Icon size={size}>
    <rect x="9" y="3" width="6" height="11" rx="3" />
    <path d="M5 11a7 7 0 0 0 14 0M12 18v3" />
    {off ? <Slash /> : null}
  </Icon>
);

export const HeadphonesIcon = ({ off = false, size }: { off?: boolean; size?: number }) => (
  <Icon size={size}>
    <path d="M4 16v-4a8 8 0 0 1 16 0v4" />
    <rect x="3" y="15" width="4" height="6" rx="1" />
    <rect x="17" y="15" width="4" height="6" rx="1" />
    {off ? <Slash /> : null}
  </Icon>
);

export const SpeakerIcon = ({ size }: { size?: number }) => (
  <Icon size={size}>
    <path d="M4 9h4l5-4v14l-5-4H4z" />
    <path d="M16.5 9a4 4 0 0 1 0 6M19 6.5a8 8 0 0 1 0 11" />
  </Icon>
);

export const HangUpIcon = ({ size }: { size?: number }) => (
  <Icon size={size}>
    <path d="M3 15.5c5-5 13-5 18 0l-2.5 2.5-3.5-1.5v-2.5a11 11 0 0 0-6 0v2.5L5.5 18z" />
  </Icon>
);
