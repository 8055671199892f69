-- placeholder; replaced by the hardened runbook
create schema if not exists bfg_flowcontrol;
