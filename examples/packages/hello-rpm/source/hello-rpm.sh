#!/bin/sh
echo "Hello from an RPM!"
