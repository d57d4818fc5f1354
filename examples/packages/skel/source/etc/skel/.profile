# ~/.profile: executed by login shells.
PATH="$HOME/bin:$PATH"
