#!/bin/sh
echo "Hello from an Arch package!"
