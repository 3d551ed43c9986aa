// Package clitools proves, in its tests, that upgrade-governor fits the workflow of a team
// that already ships with the real `solana` CLI and `solana-verify`: onboarding with
// scripts/onboard.sh, equal hashes, and bypass attempts that fail, all against localnet.
package clitools
