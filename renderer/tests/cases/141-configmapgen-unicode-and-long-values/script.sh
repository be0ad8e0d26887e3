#!/bin/sh
echo "<tag> & 'quotes' \"double\""
	tabbed line
trailing space 
